// How the console writes durations, rates, names and the service's internal words.

export function minutes(seconds) {
  if (seconds === null || seconds === undefined) { return '—'; }
  if (seconds < 60) { return Math.round(seconds) + ' s'; }
  return (seconds / 60).toFixed(1) + ' min';
}

export function percent(rate) {
  return rate === null || rate === undefined ? '—' : Math.round(rate * 100) + '%';
}

// The customer's name: the name the chat has (signed in, or looked up when it joined the queue), else the first
// name the bot verified, else who they are (the number stays beside it).
export function customerName(record) {
  const slots = (record.context && record.context.slots) || {};
  const name = record.customer_name || slots.customer_first_name;
  if (name) { return name; }
  return record.customer_id ? 'Verified customer' : 'Anonymous visitor';
}

const REASONS = {
  dispute: 'Disputes a charge',
  request_human: 'Asked for a person',
  fallback: 'Bot did not understand',
  verification_locked: 'Verification locked',
  backend_unavailable: 'Billing system unavailable',
  arrangement_request: 'Payment arrangement outside policy',
};

export function reasonLabel(reason) {
  if (!reason) { return 'Request'; }
  return REASONS[reason] || humanize(reason);
}

const SLOTS = {
  identity_verified: 'Identity verified',
  verified_customer_id: 'Verified customer number',
  customer_first_name: 'First name',
  verification_status: 'Verification',
  account_currency: 'Currency',
  account_number: 'Account number',
  dispute_line_item_id: 'Disputed charge (line item)',
  dispute_charge_label: 'Disputed charge',
  dispute_reason: 'Why they dispute it',
  dispute_confirmed: 'Dispute confirmed',
  dispute_id: 'Dispute number',
  handoff_state: 'Handover',
  handoff_outcome: 'Outcome',
  csat_score: 'Rating',
  payment_amount: 'Payment amount',
  payment_offer: 'Payment offered',
  payment_confirmed: 'Payment confirmed',
  setting_change: 'Setting to change',
  setting_confirmed: 'Setting change confirmed',
  arrangement_kind: 'Arrangement',
  promise_date: 'Promised date',
  plan_instalments: 'Instalments',
  arrangement_offer: 'Arrangement offered',
  arrangement_confirmed: 'Arrangement confirmed',
  account_check_pending: 'Account check pending',
  account_check_offer: 'Account check offered',
};

// A slot's name as a person reads it: known ones by name, the rest with spaces and a capital.
export function slotLabel(name) {
  return SLOTS[name] || humanize(name);
}

export function slotValue(value) {
  if (value === true) { return 'Yes'; }
  if (value === false) { return 'No'; }
  if (Array.isArray(value)) { return value.map(slotValue).join(', '); }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).map(([key, inner]) => slotLabel(key) + ': ' + slotValue(inner)).join('; ');
  }
  return String(value);
}

export function humanize(word) {
  const text = String(word).replace(/_/g, ' ').trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// Money as people read it: "$1,234.50" for a Decimal string from the service ("1234.50") in the account's
// currency ("CA$60.00", "€60.00"). Intl formats the string as an exact decimal: never parsed to a float.
const MONEY_FORMATS = new Map();

export function money(amount, currency = 'USD') {
  if (amount === null || amount === undefined || amount === '') { return '—'; }
  const code = /^[A-Z]{3}$/.test(String(currency || '')) ? currency : 'USD';
  if (!MONEY_FORMATS.has(code)) {
    MONEY_FORMATS.set(code, new Intl.NumberFormat('en-US', { style: 'currency', currency: code }));
  }
  const text = String(amount).trim();
  return /^-?\d+(\.\d+)?$/.test(text) ? MONEY_FORMATS.get(code).format(text) : text;
}

export function dollars(amount) {
  return money(amount, 'USD');
}

// A calendar date from the service ("2026-12-17") as people write it ("December 17, 2026"); anything else as is.
const LONG_DATE = new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' });

export function longDate(iso) {
  if (!iso) { return '—'; }
  return /^\d{4}-\d{2}-\d{2}$/.test(String(iso)) ? LONG_DATE.format(new Date(iso + 'T00:00:00Z')) : String(iso);
}

export function localTime(iso) {
  const when = new Date(iso);
  return Number.isNaN(when.getTime()) ? '' : when.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}
