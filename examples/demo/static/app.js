// The demo's only script, allowed by its CSP nonce. It adds convenience,
// never security: every check also happens on the server.
document.addEventListener("DOMContentLoaded", () => {
  const first = document.querySelector("main input:not([type=hidden]), main textarea");
  if (first) { first.focus(); }
});
