// Camera scanning for the stock pages, through @zxing/browser (its UMD
// build, global ZXingBrowser, served at /portal/static/vendor/).
// Progressive enhancement: without the library, a camera or permission,
// the scanner stays hidden and the codes are typed in the form.
(function () {
  'use strict';
  const box = document.querySelector('[data-scanner]');
  const target = document.querySelector('[data-scan-target]');
  if (!box || !target) {
    return;
  }
  const lib = window.ZXingBrowser;
  const media = navigator.mediaDevices;
  if (!lib || !lib.BrowserMultiFormatReader || !media
      || !media.getUserMedia) {
    return;
  }
  const video = box.querySelector('video');
  const start = box.querySelector('[data-scan-start]');
  const stop = box.querySelector('[data-scan-stop]');
  const status = box.querySelector('[data-scan-status]');
  let controls = null;
  let last = null;
  let lastAt = 0;
  box.hidden = false;

  const say = text => {
    if (status) {
      status.textContent = text;
    }
  };
  const add = code => {
    // the same code held before the camera: read once a second and a half
    const now = Date.now();
    if (code === last && now - lastAt < 1500) {
      return;
    }
    last = code;
    lastAt = now;
    const value = target.value.replace(/\s+$/, '');
    target.value = (value ? value + '\n' : '') + code;
    say(code);
    if (navigator.vibrate) {
      navigator.vibrate(60);
    }
  };
  const halt = () => {
    if (controls) {
      controls.stop();
      controls = null;
    }
    start.hidden = false;
    stop.hidden = true;
  };
  start.addEventListener('click', () => {
    const reader = new lib.BrowserMultiFormatReader();
    start.hidden = true;
    stop.hidden = false;
    reader.decodeFromConstraints(
      {video: {facingMode: 'environment'}}, video, (result) => {
        if (result) {
          add(result.getText());
        }
      })
      .then(c => {
        controls = c;
      })
      .catch(() => {
        // no camera or no permission: typing stays
        halt();
        box.hidden = true;
      });
  });
  stop.addEventListener('click', halt);
  window.addEventListener('pagehide', halt);
}());
