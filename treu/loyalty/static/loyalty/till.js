/* The till: scan a member card with the device camera, print the card, send a form once.
 *
 * Progressive enhancement only: without this file (or where the browser has no
 * BarcodeDetector or no camera) the page works as it is: type the number or email, press
 * Ctrl+P, and the server's idempotency key keeps a double tap from booking twice.
 * The browser's own BarcodeDetector and getUserMedia; no library, nothing from elsewhere.
 */
(function () {
  "use strict";

  // Print buttons (the member card) exist only where script runs.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  // A booking form is sent once; a second tap while the page loads does nothing.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
    });
  });
  window.addEventListener("pageshow", function () {  // back to a page from the cache
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      delete form.dataset.sent;
    });
  });

  var form = document.querySelector("[data-scan-form]");
  var box = document.querySelector("[data-scanner]");
  if (!form || !box || !("BarcodeDetector" in window) || !navigator.mediaDevices ||
      !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var input = form.querySelector("input[name=q]");
  var button = form.querySelector("[data-scan]");
  var video = box.querySelector("[data-scan-video]");
  var status = box.querySelector("[data-scan-status]");
  var stream = null;
  var timer = null;
  var detector = null;

  function stop() {
    window.clearTimeout(timer);
    timer = null;
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.srcObject = null;
    box.hidden = true;
  }

  function look() {
    detector.detect(video).then(function (codes) {
      var found = codes.find(function (code) { return code.rawValue; });
      if (!stream) { return; }
      if (found) {
        stop();
        input.value = found.rawValue.trim();
        form.submit();
        return;
      }
      timer = window.setTimeout(look, 150);
    }).catch(function () {
      if (stream) { timer = window.setTimeout(look, 300); }  // the video was not ready yet
    });
  }

  function start() {
    box.hidden = false;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        return video.play();
      })
      .then(look)
      .catch(function () {
        stop();
        box.hidden = false;
        status.textContent = box.dataset.denied;
        box.querySelector("[data-scan-stop]").hidden = true;
        input.focus();
      });
  }

  window.BarcodeDetector.getSupportedFormats().then(function (formats) {
    if (formats.indexOf("qr_code") === -1) { return; }
    detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    button.hidden = false;
    button.addEventListener("click", function () { if (!stream) { start(); } });
    box.querySelector("[data-scan-stop]").addEventListener("click", stop);
    window.addEventListener("pagehide", stop);
  }).catch(function () { /* no detector: typing is all there is */ });
})();
