"""Frames sent on a socket that is already closed (the server closes it on its own: uvicorn answers invalid
UTF-8 with 1007 while a frame is on its way) are a gone peer, not a service failure."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.testclient import TestClient

from handoff.conversations.frames import send_frame


def test_a_frame_sent_after_the_close_is_a_disconnect_not_a_runtime_error() -> None:
    raised: list[BaseException] = []
    app = FastAPI()

    @app.websocket("/ws")
    async def closes_then_sends(websocket: WebSocket) -> None:
        await websocket.accept()
        await send_frame(websocket, {"type": "welcome"})
        await websocket.close(code=1007)
        try:
            await send_frame(websocket, {"type": "message", "text": "too late"})
        except BaseException as error:  # recorded: the test asserts what was raised
            raised.append(error)

    with TestClient(app).websocket_connect("/ws") as socket:
        assert socket.receive_json() == {"type": "welcome"}
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == 1007
    assert len(raised) == 1 and isinstance(raised[0], WebSocketDisconnect)
    assert raised[0].code == 1006 and isinstance(raised[0].__cause__, RuntimeError)
