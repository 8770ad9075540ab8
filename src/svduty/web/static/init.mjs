// Start GOV.UK Frontend's components (skip link, navigation toggle, details, tabs...).
import { initAll } from "/static/vendor/govuk-frontend/govuk-frontend.min.js";

initAll();
