// Live updates on dashboard pages. Each element with data-live-socket="/ws/…" opens that websocket;
// the server sends JSON ops carrying HTML rendered from the page's own template partials, and this
// file only puts the fragments in place. It also ticks the "length so far" of live conversations.
// Nothing is polled: without this script the pages still show what was true when they loaded.
(function () {
  "use strict";

  var REFUSED = 4403, NOT_FOUND = 4404;
  var clockOffset = 0; // server time minus this browser's time, from the snapshot

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content;
  }

  function byData(root, name, value) {
    var found = root.querySelectorAll("[" + name + "]");
    for (var i = 0; i < found.length; i++) {
      if (found[i].getAttribute(name) === value) return found[i];
    }
    return null;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function formatLength(totalSeconds) {
    totalSeconds = Math.max(0, Math.floor(totalSeconds));
    var h = Math.floor(totalSeconds / 3600), m = Math.floor((totalSeconds % 3600) / 60), s = totalSeconds % 60;
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }

  function tick() {
    var now = Date.now() + clockOffset;
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-since"));
      if (!isNaN(since)) el.textContent = formatLength((now - since) / 1000);
    });
  }

  function refreshCount(root) {
    var list = root.querySelector("[data-live-list]");
    if (!list) return;
    var rows = list.querySelectorAll("[data-live-id]").length;
    var count = root.querySelector("[data-live-count]");
    var empty = root.querySelector("[data-live-empty]");
    if (count && count.textContent !== String(rows)) count.textContent = String(rows);
    if (empty) empty.hidden = rows > 0;
  }

  // Messages go by their position in the transcript (a caller's words can arrive after Ava's reply).
  function placeMessage(transcript, node, position) {
    var bubbles = transcript.querySelectorAll("[data-position]");
    for (var i = 0; i < bubbles.length; i++) {
      if (parseInt(bubbles[i].getAttribute("data-position"), 10) > position) {
        transcript.insertBefore(node, bubbles[i]);
        return;
      }
    }
    transcript.appendChild(node);
  }

  var ops = {
    snapshot: function (root, op) {
      if (op.now) clockOffset = Date.parse(op.now) - Date.now();
      var list = root.querySelector("[data-live-list]");
      if (list) list.replaceChildren(fragment(op.html));
    },
    upsert: function (root, op) {
      var list = root.querySelector("[data-live-list]");
      if (!list) return;
      var existing = byData(list, "data-live-id", op.id);
      var node = fragment(op.html);
      if (existing) existing.replaceWith(node); else list.appendChild(node);
    },
    utterance: function (root, op) {
      var row = byData(root, "data-live-id", op.id);
      var last = row && row.querySelector("[data-live-last]");
      if (last) last.replaceChildren(fragment(op.html));
    },
    customer: function (root, op) {
      var row = byData(root, "data-live-id", op.id);
      var who = row && row.querySelector("[data-live-customer]");
      if (who) who.replaceChildren(fragment(op.html));
    },
    remove: function (root, op) {
      var row = byData(root, "data-live-id", op.id);
      if (row) row.remove();
    },
    transcript: function (root, op) {
      var transcript = root.querySelector("[data-live-transcript]");
      if (transcript) transcript.replaceChildren(fragment(op.html));
    },
    message: function (root, op) {
      var transcript = root.querySelector("[data-live-transcript]");
      if (!transcript || byData(transcript, "data-key", op.key)) return;
      var empty = transcript.querySelector("[data-empty]");
      if (empty) empty.remove();
      placeMessage(transcript, fragment(op.html), op.position);
    },
    replace: function (root, op) {
      var transcript = root.querySelector("[data-live-transcript]");
      var existing = transcript && byData(transcript, "data-key", op.key);
      if (existing) existing.replaceWith(fragment(op.html));
    },
    event: function (root, op) {
      var transcript = root.querySelector("[data-live-transcript]");
      if (!transcript || byData(transcript, "data-key", op.key)) return;
      transcript.appendChild(fragment(op.html));
    },
    // A whole partial again (the console's thread): [data-live-swap=target] is replaced.
    swap: function (root, op) {
      var target = root.querySelector('[data-live-swap="' + op.target + '"]');
      if (target) target.replaceWith(fragment(op.html));
    },
    // One outbox row, new or changed. A new one goes on top when the outbox's filter shows its channel.
    outbound: function (root, op) {
      var outbox = root.querySelector("[data-live-outbox]");
      var rows = outbox && outbox.querySelector("[data-outbox-rows]");
      if (!rows) return;
      var existing = byData(rows, "data-outbound", op.id);
      if (existing) { existing.replaceWith(fragment(op.html)); return; }
      var only = outbox.getAttribute("data-live-outbox");
      if (!op.created || (only && only !== op.channel)) return;
      rows.insertBefore(fragment(op.html), rows.firstChild);
      var limit = parseInt(outbox.getAttribute("data-live-limit"), 10) || 50;
      while (rows.children.length > limit) rows.lastElementChild.remove();
      outbox.querySelectorAll("[data-outbox-table]").forEach(function (el) { el.hidden = false; });
      outbox.querySelectorAll("[data-outbox-empty]").forEach(function (el) { el.hidden = true; });
    },
    ended: function (root, op, socket) {
      var notice = root.querySelector("[data-live-ended]");
      if (notice) notice.replaceChildren(fragment(op.html));
      document.querySelectorAll("[data-live-badge]").forEach(function (badge) { badge.remove(); });
      socket.finished = true;
      socket.close(1000);
    }
  };

  function connect(root) {
    var path = root.getAttribute("data-live-socket");
    var status = root.querySelector("[data-live-status]");
    var delay = 1000;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";

    function say(text, state) {
      if (!status) return;
      status.textContent = text;
      status.setAttribute("data-state", state);
    }

    function open() {
      var socket = new WebSocket(scheme + window.location.host + path);
      socket.addEventListener("open", function () {
        delay = 1000;
        say("connected", "connected");
        root.setAttribute("data-live-connected", "true");
      });
      socket.addEventListener("message", function (event) {
        var op;
        try { op = JSON.parse(event.data); } catch (error) { return; }
        var handler = ops[op.op];
        if (handler) handler(root, op, socket);
        refreshCount(root);
        tick();
      });
      socket.addEventListener("close", function (event) {
        root.removeAttribute("data-live-connected");
        if (socket.finished) { say("ended", "ended"); return; }
        if (event.code === REFUSED || event.code === NOT_FOUND) { say("not available", "refused"); return; }
        // A restarted server or a lost network: try again, more slowly each time, up to 30 s.
        say("reconnecting…", "reconnecting");
        window.setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      });
    }
    open();
  }

  function start() {
    document.querySelectorAll("[data-live-socket]").forEach(connect);
    tick();
    window.setInterval(tick, 1000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
