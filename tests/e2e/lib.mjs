// lib.mjs: what the browser tests share: Chromium's flags for a fake microphone playing a
// WAV file, waiting, and measuring the tones a page hears.

export function flags(wav) {
  return ['--no-sandbox', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${wav}`, '--allow-loopback-in-peer-connection',
    '--disable-background-networking', '--no-first-run', '--disable-component-update',
    '--autoplay-policy=no-user-gesture-required', '--disable-features=WebRtcHideLocalIpsWithMdns'];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function until(fn, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (await fn()) return true; await sleep(100); }
  throw new Error('timed out waiting for ' + what);
}

// In the page: the peak level (dBFS per FFT bin) near each frequency over `ms`.
export async function hear(page, freqs, ms) {
  return page.evaluate(async ({ freqs, ms }) => {
    const audio = document.getElementById('remote-audio');
    const ctx = new AudioContext();
    await ctx.resume();
    const src = ctx.createMediaStreamSource(audio.srcObject);
    const an = ctx.createAnalyser();
    an.fftSize = 8192;
    an.smoothingTimeConstant = 0;
    src.connect(an);
    const data = new Float32Array(an.frequencyBinCount);
    const binHz = ctx.sampleRate / an.fftSize;
    const res = Object.fromEntries(freqs.map((f) => [f, -200]));
    for (let t = 0; t < ms; t += 100) {
      await new Promise((r) => setTimeout(r, 100));
      an.getFloatFrequencyData(data);
      for (const f of freqs) {
        const b = Math.round(f / binHz);
        for (let k = b - 2; k <= b + 2; k++) res[f] = Math.max(res[f], data[k]);
      }
    }
    await ctx.close();
    return res;
  }, { freqs, ms });
}

// Join from a page: opts.url to open first (else the page is where it should be), fill the
// name, submit, and wait for the media to connect; on failure, say what the page knew.
export async function join(page, name, opts = {}) {
  if (opts.url) await page.goto(opts.url);
  await page.fill('#name', name);
  await page.click('#join');
  try {
    await page.waitForFunction(() => window.tutti && window.tutti.state === 'connected', null,
                               { timeout: opts.timeout || 20000 });
  } catch (e) {
    const diag = await page.evaluate(() => ({
      state: window.tutti.state, reason: window.tutti.reason, errors: window.tutti.errors,
      pc: window.tutti.pc && { conn: window.tutti.pc.connectionState,
                               ice: window.tutti.pc.iceConnectionState } }));
    throw new Error(`${name} did not connect: ${JSON.stringify(diag)}`);
  }
  return page;
}
