// Learner's check-in: send the browser's position with the form (used only when the institution set a
// geofence), and check in at once when the page was opened from the QR code.
(function () {
  var form = document.getElementById('check-in-form');
  if (!form) return;
  var sent = false;
  function submitWith(position) {
    if (position) {
      document.getElementById('latitude').value = position.coords.latitude;
      document.getElementById('longitude').value = position.coords.longitude;
    }
    sent = true;
    form.submit();
  }
  function locateThenSubmit() {
    if (form.dataset.locate !== 'true' || !navigator.geolocation) { submitWith(null); return; }
    navigator.geolocation.getCurrentPosition(submitWith, function () { submitWith(null); },
                                             {timeout: 5000, maximumAge: 60000});
  }
  form.addEventListener('submit', function (event) {
    if (sent) return;
    event.preventDefault();
    locateThenSubmit();
  });
  if (form.dataset.auto === 'true') locateThenSubmit();
})();
