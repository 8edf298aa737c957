// The secure payment page: the card goes only to the processor's tokenize endpoint (like Stripe.js); this
// backend gets the processor's token and the customer's choices. No inline script (CSP script-src 'self').
"use strict";

(function () {
  const page = document.getElementById("payment-page");
  const form = document.getElementById("card-form");
  if (!page || !form) return;
  const status = document.getElementById("status");
  const submit = document.getElementById("submit");

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  function expiry(text) {
    const match = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(text);
    return match ? { month: match[1], year: match[2] } : null;
  }

  async function tokenize() {
    const exp = expiry(document.getElementById("card-expiry").value);
    if (!exp) throw new Error("Enter the expiry as MM/YY.");
    const card = new URLSearchParams({
      "type": "card",
      "card[number]": document.getElementById("card-number").value.replace(/[\s-]/g, ""),
      "card[exp_month]": exp.month,
      "card[exp_year]": exp.year,
      "card[cvc]": document.getElementById("card-cvc").value.trim(),
    });
    const answer = await fetch(page.dataset.tokenizeUrl, {
      method: "POST", body: card, credentials: "omit",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    const body = await answer.json().catch(() => ({}));
    if (!answer.ok) throw new Error((body.error && body.error.message) || "The card could not be checked.");
    return body.id;
  }

  async function complete(paymentToken) {
    const pay = (form.querySelector("input[name=pay]:checked") || { value: "none" }).value;
    const choice = {
      payment_token: paymentToken,
      pay: pay,
      autopay: document.getElementById("autopay").checked,
    };
    if (pay === "amount") choice.amount = (document.getElementById("pay-amount").value || "").trim();
    const answer = await fetch(page.dataset.completeUrl, {
      method: "POST", credentials: "omit", body: JSON.stringify(choice),
      headers: { "Content-Type": "application/json" },
    });
    const body = await answer.json().catch(() => ({}));
    if (!answer.ok) throw new Error((body.error && body.error.message) || "Something went wrong; nothing was charged.");
    return body;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    submit.disabled = true;
    say("Sending your card to the payment processor...", false);
    try {
      const paymentToken = await tokenize();
      say("Saving...", false);
      const outcome = await complete(paymentToken);
      if (outcome.status === "declined") {
        say(outcome.summary, true);
        submit.disabled = false;
        return;
      }
      form.hidden = true;
      // The balance and method shown above were before this payment: the summary says what they are now.
      document.querySelectorAll(".before-payment").forEach(function (line) { line.hidden = true; });
      say("", false);
      document.getElementById("result-title").textContent = "Done";
      document.getElementById("result-summary").textContent = outcome.summary;
      document.getElementById("result").hidden = false;
    } catch (error) {
      say(error.message, true);
      submit.disabled = false;
    }
  });
})();
