// Print button of the proposal page (no inline script, for a strict Content-Security-Policy).
document.addEventListener("click", function (event) {
  var target = event.target.closest("[data-im-print]");
  if (target) { window.print(); }
});
