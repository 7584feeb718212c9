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
