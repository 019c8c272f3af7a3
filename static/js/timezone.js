// Tells the server the reader's time zone, so date-times read in it (with the zone
// named). A cookie rather than a form field: every page uses it, and without
// JavaScript the site's own zone is used. A static file: the CSP forbids inline code.
(function () {
  "use strict";
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (error) {
    // An old browser without Intl: the site's zone is used.
  }
})();
