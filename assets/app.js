// Lanterne's progressive enhancement: every page works without this file.
// It adds copy buttons, the live UTM preview, presets filled in place, the
// live preview card mock and the live slug check.
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
  // Choosing one fills in the fields it sets at once, so its Apply button
  // (for pages without this script, [data-no-js]) is hidden.
  document.querySelectorAll("[data-utm-presets]").forEach(function (select) {
    select.form.querySelectorAll("[data-no-js]").forEach(function (b) { b.hidden = true; });
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

  // A card's image that does not load (gone, or offline) leaves no broken icon.
  document.querySelectorAll("[data-card-image]").forEach(function (image) {
    var box = image.closest("[data-card-image-box]");
    image.addEventListener("error", function () { box.hidden = true; });
    image.addEventListener("load", function () { box.hidden = false; });
    if (image.getAttribute("src") && image.complete && !image.naturalWidth) { box.hidden = true; }
  });

  // Preview card mock: <figure data-card-mock> holding the chat bubble, kept
  // in step with the card's fields, the link's title, destination, domain and slug.
  var mock = document.querySelector("[data-card-mock]");
  if (mock) {
    var cardForm = mock.closest("form");
    var value = function (name) {
      var f = cardForm.querySelector("[name=" + name + "]");
      return f ? f.value.trim() : "";
    };
    var part = function (name) { return mock.querySelector("[data-card-" + name + "]"); };
    var image = part("image"), imageBox = part("image-box");
    var httpsUrl = function (s) {
      try { var u = new URL(s); return u.protocol === "https:" && u.host ? u.href : null; } catch (e) { return null; }
    };
    var updateCard = function () {
      part("title").textContent = value("preview_title") || value("title") || value("destination");
      var desc = value("preview_description");
      part("desc").textContent = desc;
      part("desc").hidden = !desc;
      var src = httpsUrl(value("preview_image_url"));
      if (!src) { imageBox.hidden = true; image.removeAttribute("src"); }
      else if (image.getAttribute("src") !== src) { image.setAttribute("src", src); }
      var domain = cardForm.querySelector("[name=domain]");
      var option = domain && domain.options ? domain.options[domain.selectedIndex] : null;
      var prefix = (option && option.getAttribute("data-short-prefix")) || mock.getAttribute("data-short-prefix") || "";
      if (domain && domain.value) { part("host").textContent = domain.value; }
      part("message").textContent = prefix + (value("slug") || "…");
    };
    cardForm.addEventListener("input", updateCard);
    cardForm.addEventListener("change", updateCard);
  }

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
