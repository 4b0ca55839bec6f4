// The article panel's own script: after each new value, bring the marked quote into view.
watch('value', () => setTimeout(() => {
  const m = element.querySelector('mark.hl');
  if (m) m.scrollIntoView({block: 'center'});
}, 150));
