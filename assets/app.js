// Lanterne's progressive enhancement: every page works without this file.
// It adds copy buttons, the live UTM preview and the live slug check.
// No inline script anywhere (the Content-Security-Policy forbids it).
(function () {
  "use strict";

  // Copy buttons: <button data-copy="text" data-copied="Copied">.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = button.getAttribute("data-copy");
      var done = function () {
        var label = button.textContent;
        button.textContent = button.getAttribute("data-copied") || "Copied";
        setTimeout(function () { button.textContent = label; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done);
      } else {
        var area = document.createElement("textarea");
        area.value = text;
        document.body.appendChild(area);
        area.select();
        try { document.execCommand("copy"); done(); } finally { area.remove(); }
      }
    });
  });

  // UTM preview: the destination with the UTM fields as the redirect merges them.
  var preview = document.querySelector("[data-utm-preview]");
  if (preview) {
    var form = preview.closest("form");
    var names = ["source", "medium", "campaign", "term", "content"];
    var update = function () {
      var dest = form.querySelector("[name=destination]");
      var base = dest && dest.value.trim();
      if (!base) { base = preview.getAttribute("data-base") || ""; }
      var url;
      try { url = new URL(base); } catch (e) { preview.textContent = preview.getAttribute("data-empty"); return; }
      names.forEach(function (n) {
        var field = form.querySelector("[name=utm_" + n + "]");
        var v = field && field.value.trim();
        if (v) { url.searchParams.set("utm_" + n, v); }
      });
      preview.textContent = url.toString();
    };
    form.addEventListener("input", update);
    update();
  }

  // Presets: <select data-utm-presets> whose options carry data-source, data-medium...
  document.querySelectorAll("[data-utm-presets]").forEach(function (select) {
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      ["source", "medium", "campaign", "term", "content"].forEach(function (n) {
        var v = option.getAttribute("data-" + n);
        var field = select.form.querySelector("[name=utm_" + n + "]");
        if (field && v !== null) { field.value = v; }
      });
      select.form.dispatchEvent(new Event("input"));
    });
  });

  // Live slug check: <input data-slug-check="/links/slug-check?domain=..."> beside <p class="slug-status">.
  var slug = document.querySelector("[data-slug-check]");
  if (slug) {
    var status = document.getElementById(slug.getAttribute("aria-describedby").split(" ").pop());
    var timer;
    slug.addEventListener("input", function () {
      clearTimeout(timer);
      var value = slug.value.trim();
      if (!value) { status.textContent = ""; status.className = "slug-status"; return; }
      timer = setTimeout(function () {
        var domain = document.querySelector("[name=domain]");
        var url = slug.getAttribute("data-slug-check") + "?slug=" + encodeURIComponent(value) +
          (domain ? "&domain=" + encodeURIComponent(domain.value) : "");
        fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (answer) {
            status.textContent = answer.message;
            status.className = "slug-status " + (answer.available ? "ok" : "taken");
          })
          .catch(function () { status.textContent = ""; });
      }, 250);
    });
  }

})();
