// How the console writes durations, rates and names.

export function minutes(seconds) {
  if (seconds === null || seconds === undefined) { return '—'; }
  if (seconds < 60) { return Math.round(seconds) + ' s'; }
  return (seconds / 60).toFixed(1) + ' min';
}

export function percent(rate) {
  return rate === null || rate === undefined ? '—' : Math.round(rate * 100) + '%';
}

export function customerName(record) {
  return record.customer_name || 'Anonymous visitor';
}
