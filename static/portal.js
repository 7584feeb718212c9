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

// Order form fields by kind: a form with data-order-form shows only the fields of the chosen
// kind (the groups marked data-order-kind). Without JS every group shows, and the server
// ignores the other kind's fields.
const showOrderKindFields = (form) => {
  const chosen = form.querySelector('input[name="kind"]:checked');
  if (!chosen) {
    return;
  }
  for (const group of form.querySelectorAll("[data-order-kind]")) {
    group.hidden = group.dataset.orderKind !== chosen.value;
  }
};
document.addEventListener("change", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.name === "kind" && input.form?.dataset.orderForm !== undefined) {
    showOrderKindFields(input.form);
  }
});
for (const form of document.querySelectorAll("form[data-order-form]")) {
  showOrderKindFields(form);
}
