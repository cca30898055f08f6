"""The page's style sheet and its one script: constants, no value from a board ever enters them.

The script only reads the DOM the escaped HTML built: it sorts a table on a
header click (``#sort=fid`` clicks the same headers on load, ``#sort=fid,fid``
twice for descending), enlarges a sample grid on a click (a lightbox; a click
or Escape closes it) and opens the full protocol a link points to.  The
column toggle is CSS alone: a checkbox before ``<main>`` shows the cells of
class ``extra``.
"""

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.2em 2em;color:#222}
h1{font-size:1.45em;margin:.2em 0 .4em}h2{font-size:1.15em;margin:1.6em 0 .3em}
.bar{display:flex;gap:1.5em;align-items:baseline;flex-wrap:wrap;margin-bottom:.6em}
details.legend{max-width:70em}details.legend p{margin:.4em 0}
details summary{cursor:pointer;color:#0645ad}
table{border-collapse:collapse;margin:.6em 0}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right;vertical-align:middle}
td.text,th.text{text-align:left}
thead th{background:#f0f0f0;cursor:pointer;user-select:none;white-space:nowrap;position:sticky;
 top:0;z-index:2;box-shadow:0 1px 0 #bbb}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
#all-columns{position:absolute;opacity:0}
label.toggle{cursor:pointer;color:#0645ad}label.toggle::before{content:"\\2610  "}
#all-columns:checked~.bar label.toggle::before{content:"\\2611  "}
#all-columns:focus-visible~.bar label.toggle{outline:2px solid #0645ad}
.extra{display:none}#all-columns:checked~main .extra{display:table-cell}
img.zoom{image-rendering:pixelated;cursor:zoom-in}
td img.zoom{max-height:64px;max-width:96px;display:block}
td .ci{font-size:.8em;color:#555;display:block}td[data-value]{white-space:nowrap}
.protocol{font-size:.9em;color:#444;margin:.2em 0}pre{background:#f7f7f7;padding:.5em;overflow:auto}
figure{margin:.6em 0}figure img{max-width:100%}figure.cost img{width:min(100%,1150px)}figcaption{font-size:.85em;color:#444;max-width:90em}
tr.floor td{background:#eef6ee;font-style:italic}tr.above-floor td{background:#fdecea}
p.warning{color:#a40000;margin:.3em 0}
figure.copies{display:inline-block;margin:.5em 1em .5em 0}
figure.copies figcaption{max-width:480px}
svg.forest{max-width:100%;height:auto;font-size:12px;display:block}
svg.forest line{stroke:#333;stroke-width:1.5}svg.forest circle{fill:#1f77b4}
svg.forest rect.band{fill:#2ca02c;opacity:.18}svg.forest line.floor{stroke:#2ca02c;stroke-dasharray:4 3}
svg.forest text.floor{fill:#2a7a2a;font-size:11px;text-anchor:middle}
svg.forest line.axis{stroke:#999;stroke-width:1}svg.forest text.tick{fill:#555;font-size:11px}
#lightbox{position:fixed;inset:0;background:rgba(0,0,0,.82);display:flex;flex-direction:column;
 align-items:center;justify-content:center;z-index:10;cursor:zoom-out}
#lightbox[hidden]{display:none}
#lightbox img{width:88vw;height:82vh;object-fit:contain;image-rendering:pixelated}
#lightbox p{color:#fff;margin:.5em}
"""

SCRIPT = """
(function(){
  function cellValue(row, i){
    var c = row.cells[i]; var v = c.getAttribute('data-value');
    if (v === null) return c.textContent.trim().toLowerCase();
    if (v === '') return null;
    return parseFloat(v);
  }
  function sortBy(th){
    var table = th.closest('table'); var body = table.tBodies[0];
    var i = Array.prototype.indexOf.call(th.parentNode.children, th);
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    Array.prototype.forEach.call(th.parentNode.children, function(h){ h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function(a, b){
      var x = cellValue(a, i), y = cellValue(b, i);
      if (x === null && y === null) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      var r = x < y ? -1 : x > y ? 1 : 0;
      return asc ? r : -r;
    });
    rows.forEach(function(r){ body.appendChild(r); });
  }
  document.querySelectorAll('table.board th').forEach(function(th){
    th.addEventListener('click', function(){ sortBy(th); });
  });
  var m = /sort=([A-Za-z_,]+)/.exec(location.hash);
  if (m) m[1].split(',').forEach(function(key){
    document.querySelectorAll('table.board th[data-key="' + key + '"]').forEach(function(th){ th.click(); });
  });
  var box = document.getElementById('lightbox');
  var big = box.querySelector('img'), caption = box.querySelector('p');
  document.querySelectorAll('img.zoom').forEach(function(img){
    img.addEventListener('click', function(){
      big.src = img.src; big.alt = img.alt; caption.textContent = img.alt; box.hidden = false;
    });
  });
  box.addEventListener('click', function(){ box.hidden = true; });
  document.addEventListener('keydown', function(e){ if (e.key === 'Escape') box.hidden = true; });
  function openTarget(){
    var id = location.hash.slice(1);
    try { id = decodeURIComponent(id); } catch (e) { return; }
    var target = id && document.getElementById(id);
    if (target && target.tagName === 'DETAILS') target.open = true;
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();
})();
"""
