/* Print buttons (the evidence pack): a click handler instead of an inline onclick, which the
   Content-Security-Policy forbids. */
document.addEventListener("click", function (e) {
  if (e.target.closest && e.target.closest("[data-print]")) window.print();
});
