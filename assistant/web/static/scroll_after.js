() => setTimeout(() => {
  const m = document.querySelector('#article-panel mark.hl');
  if (m) m.scrollIntoView({block: 'center'});
}, 200)
