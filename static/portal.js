// Destructive actions ask first: a form with data-confirm is sent only once the question is
// answered yes. Listening in the capture phase stops htmx's own submit handling too.
document.addEventListener(
  "submit",
  (event) => {
    const form = event.target;
    const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true,
);

// The menu button of narrow screens. The page ships it hidden, with the navigation showing, so
// without this script the navigation simply stays open; here the button appears and the
// navigation folds away (static/portal.css hides a closed navigation on narrow screens only).
for (const button of document.querySelectorAll("button[aria-controls].menu-button")) {
  const menu = document.getElementById(button.getAttribute("aria-controls"));
  if (!menu) continue;
  const show = (open) => {
    button.setAttribute("aria-expanded", String(open));
    menu.dataset.menu = open ? "open" : "closed";
  };
  show(false);
  button.hidden = false;
  button.addEventListener("click", () => show(button.getAttribute("aria-expanded") !== "true"));
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      show(false);
      button.focus();
    }
  });
}
