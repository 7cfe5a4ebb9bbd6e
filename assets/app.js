/* Plotly rejects the promise of an animation that another animation interrupts (Pause, the slider,
   a new figure), with no reason, and its play button does not catch it: the browser would report
   "Uncaught (in promise)". Swallow exactly those (reason undefined); every other rejection is reported. */
window.addEventListener("unhandledrejection", function (event) {
    if (event.reason === undefined) { event.preventDefault(); }
});
