// Clicks on citation links anywhere (chat or panels) become a "click" event of the sources panel.
if (window.__citeHandler) document.removeEventListener('click', window.__citeHandler, true);
window.__citeHandler = (e) => {
  const a = e.target.closest ? e.target.closest('a[href^="#cite:"]') : null;
  if (!a) return;
  e.preventDefault(); e.stopPropagation();
  trigger('click', {cite: a.getAttribute('href').slice(6)});
};
document.addEventListener('click', window.__citeHandler, true);
