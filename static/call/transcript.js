// The live transcript of both sides, ordered by item, not by arrival (docs/voice-protocol.md).
//
// A caller's spoken turn gets its place when the page commits it; its words arrive later,
// often after Ava has begun to answer, and fill that place. A typed turn is placed when it is
// sent and matched by its text when the server confirms it.

export class TranscriptView {
  constructor(list, {assistantName}) {
    this.list = list;
    this.assistantName = assistantName || "Ava";
    this.entries = new Map(); // item id -> entry
    this.waiting = []; // caller entries placed by the page, not yet named by the server
  }

  entry(itemId, speaker) {
    let entry = this.entries.get(itemId);
    if (!entry) {
      entry = this.place(speaker);
      this.bind(entry, itemId);
    }
    return entry;
  }

  place(speaker, {typed = null} = {}) {
    const item = document.createElement("li");
    item.className = `bubble ${speaker === "caller" ? "caller" : "assistant"}`;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = speaker === "caller" ? "You" : this.assistantName;
    const words = document.createElement("span");
    words.className = "words";
    item.append(who, words);
    const entry = {item, words, speaker, text: "", typed, itemId: null};
    if (speaker === "caller" && typed === null) {
      item.classList.add("pending");
      words.textContent = "…";
    } else if (typed !== null) {
      words.textContent = typed;
    }
    this.list.append(item);
    this.list.hidden = false;
    this.scroll();
    return entry;
  }

  bind(entry, itemId) {
    entry.itemId = itemId;
    entry.item.dataset.itemId = itemId;
    this.entries.set(itemId, entry);
  }

  // The page committed a spoken turn: its place is here, its words come later.
  callerTurn() {
    this.waiting.push(this.place("caller"));
  }

  // The server refused the last commit (too little audio): that turn will never come.
  dropLastCallerTurn() {
    const index = this.waiting.map((entry) => entry.typed).lastIndexOf(null);
    if (index < 0) return;
    const [entry] = this.waiting.splice(index, 1);
    entry.item.remove();
  }

  typed(text) {
    this.waiting.push(this.place("caller", {typed: text}));
  }

  callerEntry(itemId, text) {
    if (this.entries.has(itemId)) return this.entries.get(itemId);
    // A typed turn is named by its text; a spoken one takes the oldest spoken place waiting.
    let index = this.waiting.findIndex((entry) => entry.typed !== null && entry.typed === text);
    if (index < 0) index = this.waiting.findIndex((entry) => entry.typed === null);
    if (index < 0) return this.entry(itemId, "caller");
    const [entry] = this.waiting.splice(index, 1);
    this.bind(entry, itemId);
    return entry;
  }

  // A `transcript` message from the server.
  show(message) {
    const entry = message.speaker === "caller"
      ? this.callerEntry(message.item_id, message.final ? message.text : null)
      : this.entry(message.item_id, "assistant");
    if (message.final) {
      entry.text = message.text || "";
      entry.item.classList.remove("pending");
      entry.item.classList.toggle("interrupted", !!message.interrupted);
      entry.item.classList.toggle("failed", !!message.failed);
      if (message.failed || (!entry.text && message.speaker === "caller")) {
        entry.words.textContent = "(not understood)";
      } else if (!entry.text && message.interrupted) {
        entry.words.textContent = ""; // the caller cut Ava off before a word; CSS says "(interrupted)"
      } else {
        entry.words.textContent = entry.text;
      }
      entry.item.dataset.final = "true";
    } else {
      entry.text += message.delta || "";
      entry.item.classList.remove("pending");
      entry.words.textContent = entry.text;
    }
    this.scroll();
  }

  // Ava's goodbye when the server could not speak it (call.ended `say`).
  note(text) {
    const entry = this.place("assistant");
    entry.words.textContent = text;
    entry.item.dataset.final = "true";
  }

  scroll() {
    this.list.scrollTop = this.list.scrollHeight;
  }
}
