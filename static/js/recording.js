// A call's recording beside its transcript (templates/dashboard/conversation.html). A line's button, or a
// click on the line, plays the recording from where that line starts; while it plays, the line being
// spoken is highlighted. A file of its own: the Content Security Policy allows no inline script.
(function () {
  "use strict";

  var audio = document.querySelector("[data-recording-player]");
  var transcript = document.getElementById("transcript");
  if (!audio || !transcript) return;

  var lines = Array.prototype.map.call(transcript.querySelectorAll("[data-start-ms]"), function (element) {
    var end = parseInt(element.getAttribute("data-end-ms"), 10);
    return { element: element, start: parseInt(element.getAttribute("data-start-ms"), 10) / 1000,
             end: isNaN(end) ? null : end / 1000 };
  });
  lines.sort(function (a, b) { return a.start - b.start; });
  // A line whose end is unknown lasts until the next one starts (or the recording ends).
  lines.forEach(function (line, i) {
    if (line.end === null) line.end = i + 1 < lines.length ? lines[i + 1].start : Infinity;
  });

  function playFrom(seconds) {
    // Before the metadata has loaded this sets where playback will start, which is what we want.
    audio.currentTime = seconds;
    var playing = audio.play();
    // A later click interrupts an earlier play() (AbortError); the player's own controls show any real failure.
    if (playing && playing.catch) playing.catch(function () {});
  }

  transcript.addEventListener("click", function (event) {
    var element = event.target.closest("[data-start-ms]");
    if (!element || !transcript.contains(element)) return;
    // Selecting words to copy them is not a request to play.
    var selection = window.getSelection ? String(window.getSelection()) : "";
    if (selection && !event.target.closest("[data-seek]")) return;
    if (event.target.closest("a")) return;
    playFrom(parseInt(element.getAttribute("data-start-ms"), 10) / 1000);
  });

  var spoken = [];

  function highlight(event) {
    var now = audio.currentTime;
    var current = event && event.type === "ended" ? [] : lines.filter(function (line) { return now >= line.start && now < line.end; })
      .map(function (line) { return line.element; });
    if (current.length === spoken.length && current.every(function (el, i) { return el === spoken[i]; })) return;
    spoken.forEach(function (el) { el.classList.remove("speaking"); el.removeAttribute("aria-current"); });
    current.forEach(function (el) { el.classList.add("speaking"); el.setAttribute("aria-current", "true"); });
    // Follow the call in the transcript while it plays, without yanking the page while staff read.
    if (current.length && !audio.paused) current[0].scrollIntoView({ block: "nearest" });
    spoken = current;
  }

  audio.addEventListener("timeupdate", highlight);
  audio.addEventListener("seeked", highlight);
  audio.addEventListener("ended", highlight); // nothing is being spoken at the end
})();
