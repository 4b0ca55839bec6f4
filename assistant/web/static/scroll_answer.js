() => setTimeout(() => {
  const heads = document.querySelectorAll('#chatbot .framing, #chatbot .abstain');
  const last = heads[heads.length - 1];
  if (last) last.parentElement.scrollIntoView({block: 'start'});
}, 250)
