// The console's WebSocket (/ws/console): reconnects with backoff, pings every 20 s, and sends the sign-in
// form back when the server closes it because the session ended (4401).

const HEARTBEAT_MS = 20000;
const MAX_DELAY_MS = 10000;
const SESSION_ENDED = 4401;

export function createConsoleSocket({ onState, onOpen, onFrame }) {
  let socket = null;
  let retry = 0;

  const isOpen = () => socket !== null && socket.readyState === WebSocket.OPEN;

  function send(frame) {
    if (isOpen()) { socket.send(JSON.stringify(frame)); }
  }

  function receive(event) {
    let frame;
    try { frame = JSON.parse(event.data); } catch (error) { return; }
    onFrame(frame);
  }

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    const ws = new WebSocket(scheme + location.host + '/ws/console');
    socket = ws;
    onState('connecting', 'connecting…');
    ws.onopen = () => { retry = 0; onState('connected', 'connected'); onOpen(); };
    ws.onmessage = receive;
    ws.onclose = (event) => {
      if (socket !== ws) { return; }
      if (event.code === SESSION_ENDED) { location.reload(); return; }
      onState('reconnecting', 'reconnecting…');
      const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** retry);
      retry += 1;
      setTimeout(connect, delay);
    };
  }

  connect();
  setInterval(() => send({ type: 'ping' }), HEARTBEAT_MS);
  return { send };
}
