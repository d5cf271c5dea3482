// Modal dialogs as a progressive enhancement. A link with data-dialog="ID"
// opens <dialog id="ID"> as a modal instead of following its href (the same
// form as a page, for browsers without JavaScript); an element with
// data-close-dialog closes its dialog. A dialog rendered open with
// data-modal (a form shown again with its errors) is reopened as a modal.
document.addEventListener("click", function (e) {
  var opener = e.target.closest("[data-dialog]");
  if (opener) {
    var d = document.getElementById(opener.getAttribute("data-dialog"));
    if (d && typeof d.showModal === "function") {
      e.preventDefault();
      d.showModal();
    }
    return;
  }
  var closer = e.target.closest("[data-close-dialog]");
  if (closer && closer.closest("dialog")) {
    e.preventDefault();
    closer.closest("dialog").close();
  }
});
// Loaded async (so it never delays htmx): the document may be parsed already.
function reopenModals() {
  document.querySelectorAll("dialog[open][data-modal]").forEach(function (d) {
    if (typeof d.showModal === "function") {
      d.close();
      d.showModal();
    }
  });
}
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", reopenModals);
} else {
  reopenModals();
}
// Says the enhancement is active (browser tests wait for it before clicking).
document.documentElement.setAttribute("data-dialogs", "on");
