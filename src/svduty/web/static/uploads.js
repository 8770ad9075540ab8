// Show the upload's progress: send the form with XMLHttpRequest (the form still works without
// JavaScript), then go to the result page the server answers with.
(function () {
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData) return;
  var box = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-progress-bar");
  var text = document.getElementById("upload-progress-text");
  form.addEventListener("submit", function (event) {
    var input = document.getElementById("file");
    if (!input.files || !input.files.length) return; // let the server say what is missing
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    box.hidden = false;
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var pct = Math.round((100 * e.loaded) / e.total);
      bar.value = pct;
      text.textContent = pct < 100 ? pct + "% uploaded" : "Uploaded: checking and loading the rows…";
    });
    xhr.addEventListener("load", function () {
      if (xhr.responseURL && xhr.responseURL.indexOf("/uploads/") > -1 && xhr.status < 400) {
        window.location.assign(xhr.responseURL);
      } else {
        document.open();
        document.write(xhr.responseText);
        document.close();
      }
    });
    xhr.addEventListener("error", function () {
      text.textContent = "The upload failed: check your connection and try again.";
    });
    xhr.send(new FormData(form));
  });
})();
