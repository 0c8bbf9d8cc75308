// Search on the index: filters the event entries (every list on the page) by the words
// typed; all words must match. No network, no dependencies; works from file://.
// Keys: "/" focuses the box, Enter opens the first match, ArrowDown moves to the first
// visible result, Escape clears. The number of matching event types is announced in a
// live region. `index.html?q=words` pre-fills the search.
(function () {
  'use strict';
  var input = document.getElementById('search');
  var status = document.getElementById('search-status');
  if (!input) return;
  var entries = Array.prototype.slice.call(document.querySelectorAll('li.event-entry'));
  var groups = Array.prototype.slice.call(document.querySelectorAll('section.group'));

  function apply() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = {};
    entries.forEach(function (li) {
      var text = li.getAttribute('data-search') || '';
      var ok = words.every(function (w) { return text.indexOf(w) !== -1; });
      li.hidden = !ok;
      if (ok) shown[li.getAttribute('data-event-type')] = true;
    });
    groups.forEach(function (g) {
      g.hidden = words.length > 0 && !g.querySelector('li.event-entry:not([hidden])');
    });
    var n = Object.keys(shown).length;
    status.textContent = words.length ? n + (n === 1 ? ' event type matches' : ' event types match') : '';
  }

  function firstVisibleLink() {
    var li = document.querySelector('li.event-entry:not([hidden])');
    return li ? li.querySelector('a') : null;
  }

  input.addEventListener('input', apply);
  input.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter') {
      var a = firstVisibleLink();
      if (a) { ev.preventDefault(); window.location.href = a.href; }
    } else if (ev.key === 'ArrowDown') {
      var b = firstVisibleLink();
      if (b) { ev.preventDefault(); b.focus(); }
    } else if (ev.key === 'Escape') {
      input.value = '';
      apply();
    }
  });
  document.addEventListener('keydown', function (ev) {
    if (ev.key === '/' && document.activeElement !== input) {
      ev.preventDefault();
      input.focus();
    }
  });
  var q = new URLSearchParams(window.location.search).get('q');
  if (q) { input.value = q; }
  apply();
})();
