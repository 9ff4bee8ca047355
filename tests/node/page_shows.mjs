// page_shows.mjs URL TEXT [SECONDS]: opens URL in headless Debian chromium
// and exits 0 once TEXT is on the page, 1 if it does not show in time.
// Used by the tutorial test.
import { launchBrowser } from './harness.mjs';

const [url, text, seconds = '30'] = process.argv.slice(2);
const browser = await launchBrowser();
let status = 1;
try {
  const page = await browser.newPage();
  await page.goto(url);
  console.log('opened');
  await page.getByText(text).first().waitFor({ timeout: Number(seconds) * 1000 });
  status = 0;
} catch (err) {
  console.error(String(err));
} finally {
  await browser.close();
}
process.exit(status);
