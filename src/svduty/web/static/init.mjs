// Start GOV.UK Frontend's components (skip link, navigation toggle, details, tabs...).
import { initAll } from "/static/vendor/govuk-frontend/govuk-frontend.min.js";

initAll();

// A table too wide for the screen scrolls sideways in its box (.svduty-table-wrap). Such a box
// must be reachable with the keyboard to be scrolled (WCAG 2.1.1; axe's
// scrollable-region-focusable): while it scrolls, it is a named region in the Tab order.
function markScrollingTables() {
  document.querySelectorAll(".svduty-table-wrap").forEach((box) => {
    const scrolls = box.scrollWidth > box.clientWidth + 1;
    if (scrolls && !box.hasAttribute("tabindex")) {
      const caption = box.querySelector("caption");
      const name = caption ? caption.textContent.trim().replace(/\s+/g, " ") : "Table";
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", `${name} (scrolls sideways)`);
      box.dataset.svdutyScrolls = "true";
    } else if (!scrolls && box.dataset.svdutyScrolls) {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
      delete box.dataset.svdutyScrolls;
    }
  });
}

markScrollingTables();
window.addEventListener("resize", markScrollingTables);
// A table shown later: in a <details> opened, or in panels that htmx swapped in.
document.addEventListener("toggle", markScrollingTables, true);
document.body.addEventListener("htmx:afterSettle", markScrollingTables);
