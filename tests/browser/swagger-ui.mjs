// Opens Pilot's Swagger UI in a real headless Chromium (Debian's `chromium`, driven by playwright-core), lists the
// operations, and runs "Try it out" on GET /v3/ping and POST /v3/environ.
//
//   node swagger-ui.mjs BASE_URL ENV_NAME ENV_VALUE
//
// BASE_URL is a pilot's -dev-http listener (e.g. http://127.0.0.1:8088). Prints one `name: value` line per finding and
// exits 0 only when every step worked; tests/Pilot.Api.Tests (Cli/DevListenerTests) runs it and checks the put variable
// reached a later child. Every wait is bounded.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [base, envName, envValue] = process.argv.slice(2);
if (!base || !envName || !envValue) {
  console.error("usage: node swagger-ui.mjs BASE_URL ENV_NAME ENV_VALUE");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const timeout = 20_000;

// A fresh profile each run; nothing of the browser reaches beyond this machine.
const profile = mkdtempSync(join(tmpdir(), "pilot-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  timeout,
});
context.setDefaultTimeout(timeout);

/** Expands an operation, presses "Try it out", optionally fills the body, executes, and returns status and body text. */
async function tryItOut(page, operationId, body) {
  const operation = page.locator(`#operations-v3-${operationId}`);
  await operation.locator(".opblock-summary").first().click();
  await operation.getByRole("button", { name: "Try it out" }).click();
  if (body !== undefined) {
    await operation.locator("textarea.body-param__text").fill(body);
  }
  await operation.getByRole("button", { name: "Execute" }).click();
  const response = operation.locator(".live-responses-table .response").first();
  await response.waitFor();
  const status = (await response.locator(".response-col_status").first().innerText()).trim();
  const text = (await response.locator(".response-col_description pre").first().innerText()).trim();
  return { status, text };
}

let failed = false;
try {
  const page = await context.newPage();
  await page.goto(new URL("/swagger/index.html", base).toString());
  await page.locator(".opblock").first().waitFor();

  const paths = await page.locator(".opblock-summary-path").allInnerTexts();
  console.log(`operations: ${paths.map((p) => p.replace(/\u200b/g, "").trim()).join(" ")}`);

  const ping = await tryItOut(page, "Ping");
  console.log(`ping: ${ping.status} ${ping.text.replace(/\s+/g, "")}`);
  failed ||= ping.status !== "200";

  const environ = await tryItOut(page, "PutEnviron", JSON.stringify({ [envName]: envValue }));
  console.log(`environ: ${environ.status} ${environ.text.replace(/\s+/g, "")}`);
  failed ||= environ.status !== "200";
} catch (error) {
  console.error(`browser: ${error}`);
  failed = true;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
