/* Learners sign their own row of the register on the facilitator's tablet or phone: the Sign button opens a
 * dialog with a signature pad (vendor/signature_pad, MIT), Save posts the drawing as a PNG data URL, and the row
 * then shows it. The pad takes touch, pen and mouse (pointer events). No inline script: the CSP forbids it.
 */
(function () {
  "use strict";
  var dialog = document.getElementById("signature-dialog");
  if (!dialog || typeof window.SignaturePad !== "function") return;
  var _ = window.I18N._;
  var canvas = document.getElementById("signature-canvas");
  var errorBox = document.getElementById("signature-error");
  var nameBox = document.getElementById("signature-name");
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var pad = new window.SignaturePad(canvas, { backgroundColor: "rgb(255,255,255)", penColor: "rgb(0,0,0)" });
  var current = null;   // the Sign button of the row being signed

  function fitCanvas() {
    // The canvas's pixels follow its CSS size times the screen's density, so lines are sharp on a phone.
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
  }

  function open(button) {
    current = button;
    nameBox.textContent = button.dataset.name || "";
    errorBox.textContent = "";
    if (typeof dialog.showModal === "function") dialog.showModal(); else dialog.setAttribute("open", "");
    fitCanvas();
  }

  function close() {
    if (typeof dialog.close === "function") dialog.close(); else dialog.removeAttribute("open");
    if (current) current.focus();
    current = null;
  }

  function signed(body) {
    var holder = current.parentNode;
    holder.textContent = "";
    var img = document.createElement("img");
    img.className = "signature-thumb";
    img.src = body.image_url;
    img.alt = _("Signature of %(name)s").replace("%(name)s", current.dataset.name || "");
    var note = document.createElement("span");
    note.className = "text-muted";
    note.textContent = " " + _("signed");
    holder.appendChild(img);
    holder.appendChild(note);
    holder.closest(".register-row").dataset.signed = "true";
    current = null;
    if (typeof dialog.close === "function") dialog.close(); else dialog.removeAttribute("open");
  }

  function save() {
    if (pad.isEmpty()) { errorBox.textContent = _("Draw the signature first."); return; }
    var button = document.getElementById("signature-save");
    button.disabled = true;
    fetch(current.dataset.url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ image: pad.toDataURL("image/png") })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (result.ok) signed(result.body);
      else errorBox.textContent = (result.body.error && result.body.error.message) || _("The signature was not saved.");
    }).catch(function () {
      errorBox.textContent = _("The signature was not saved: check the connection and try again.");
    }).then(function () { button.disabled = false; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".sign-btn");
    if (button) open(button);
  });
  document.getElementById("signature-clear").addEventListener("click", function () { pad.clear(); errorBox.textContent = ""; });
  document.getElementById("signature-cancel").addEventListener("click", close);
  document.getElementById("signature-save").addEventListener("click", save);
  dialog.addEventListener("cancel", function () { current = null; });
})();
