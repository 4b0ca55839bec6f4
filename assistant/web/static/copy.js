// The answer's own copy button: the plain-text answer (numbered quotes and sources) from the
// hidden .copy-text beside it goes to the clipboard, not the message's HTML as gradio's copy button would.
if (window.__copyHandler) document.removeEventListener('click', window.__copyHandler, true);
window.__copyHandler = async (e) => {
  const b = e.target.closest ? e.target.closest('button.copy-answer') : null;
  if (!b) return;
  e.preventDefault(); e.stopPropagation();
  const label = b.textContent;
  try {
    const text = b.parentElement.querySelector('.copy-text');
    await navigator.clipboard.writeText(text.textContent);
    b.textContent = '✓';
  } catch (err) {
    b.textContent = '✗';
  }
  setTimeout(() => { b.textContent = label; }, 1500);
};
document.addEventListener('click', window.__copyHandler, true);
