let i = 1;
function step() { console.log(`epoch ${i} loss=${(1/i).toFixed(3)}`); if (++i <= 3) setTimeout(step, 1000); }
step();
