() => {
  // Bring the newest answer's first line into view. Gradio's own scroll to the bottom can land
  // after ours on a busy machine, so look again a few times, scrolling only if it went out of view.
  const show = (force) => {
    const heads = document.querySelectorAll('#chatbot .framing, #chatbot .abstain');
    const last = heads[heads.length - 1];
    if (!last) return;
    const message = last.parentElement;
    const log = message.closest('[role=log]') || document.querySelector('#chatbot');
    const top = message.getBoundingClientRect().top, box = log.getBoundingClientRect();
    if (force || top < box.top || top > box.bottom) message.scrollIntoView({block: 'start'});
  };
  [250, 700, 1500].forEach((t, i) => setTimeout(() => show(i === 0), t));
}
