// Tell GOV.UK Frontend's styles that JavaScript runs (the template's usual inline snippet,
// kept in a file because the Content-Security-Policy allows no inline script).
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
