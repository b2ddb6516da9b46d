// Django admin's autocomplete boxes (select2) render a combobox with no accessible name: give each
// the text of its field's label, also for boxes added later (inline rows).
(function () {
  function name(root) {
    root.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = document.querySelector('label[for="' + select.id + '"]');
      var box = select.nextElementSibling && select.nextElementSibling.querySelector('[role="combobox"]');
      if (!label || !box) return;
      var text = label.textContent.replace(/[:：]\s*$/, "").trim();
      box.setAttribute("aria-label", text);
      // The chosen value is shown in a read-only "textbox" inside; it needs the name as well.
      box.querySelectorAll('[role="textbox"]').forEach(function (shown) { shown.setAttribute("aria-label", text); });
    });
  }
  window.addEventListener("load", function () {
    name(document);
    new MutationObserver(function () { name(document); }).observe(document.body, {childList: true, subtree: true});
  });
})();
