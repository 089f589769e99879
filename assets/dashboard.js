// The dashboard's one enhancement: it tells the server the browser's time
// zone (a cookie, read when the address names no zone), so that days start
// at the analyst's midnight. Without JavaScript the view is in UTC and the
// range form offers a zone.
(function () {
  "use strict";
  var dash = document.getElementById("dashboard");
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!dash || !zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) { return; }
  var had = document.cookie.split("; ").some(function (c) { return c === "lanterne_tz=" + zone; });
  document.cookie = "lanterne_tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
  var params = new URLSearchParams(window.location.search);
  // Shown in another zone than the browser's, the address naming none, and
  // not tried yet in this tab: load the same view in the browser's zone.
  if (!had && !params.has("tz") && dash.getAttribute("data-tz") !== zone &&
      !sessionStorage.getItem("lanterne_tz_tried")) {
    sessionStorage.setItem("lanterne_tz_tried", "1");
    window.location.replace(window.location.href);
  }
}());
