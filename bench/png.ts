// The chart as a PNG as well: the packaged extension's README (vsce) refuses SVG images.
import { launchChromium } from '../test/browser/chromium';

export async function writePng(svg: string, file: string): Promise<void> {
  const width = Number(/width="(\d+)"/.exec(svg)?.[1] ?? 1000);
  const height = Number(/height="(\d+)"/.exec(svg)?.[1] ?? 400);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 2 });
    await page.setContent(`<body style="margin:0">${svg}</body>`);
    await page.screenshot({ path: file, clip: { x: 0, y: 0, width, height } });
  } finally {
    await browser.close();
  }
}
