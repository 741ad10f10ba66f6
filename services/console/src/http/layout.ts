import type { Principal } from '../auth/roles';
import { html, type SafeHtml } from './html';

/** What every signed-in page shows around its content. */
export interface PageFrame {
  title: string;
  principal: Principal | null;
  csrfToken: string | null;
  /** The navigation entry to mark current. */
  current?: 'pipeline' | 'funders' | 'grants' | 'dead-letters' | 'read-model';
  /** Markup for the head besides the stylesheet (the pipeline page's script). */
  head?: SafeHtml;
}

const NAV: { key: NonNullable<PageFrame['current']>; href: string; label: string }[] = [
  { key: 'pipeline', href: '/pipeline', label: 'Pipeline' },
  { key: 'funders', href: '/funders', label: 'Funders' },
  { key: 'grants', href: '/grants', label: 'Grants' },
  { key: 'dead-letters', href: '/dead-letters', label: 'Dead letters' },
  { key: 'read-model', href: '/read-model', label: 'Read model' },
];

/**
 * A whole page: one same-origin stylesheet, no script but a page's own
 * same-origin file (the Content-Security-Policy allows no other), a skip link, landmarks, and the sign-out form
 * with its CSRF token.
 */
export function page(frame: PageFrame, content: SafeHtml): string {
  const user = frame.principal;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${frame.title} · grantstream console</title>
        <link rel="stylesheet" href="/assets/console.css" />
        ${frame.head ?? ''}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <span class="brand">grantstream console</span>
          ${user
            ? html`<nav aria-label="Main">
                  <ul>
                    ${NAV.map(
                      (n) =>
                        html`<li>
                          <a
                            href="${n.href}"
                            ${frame.current === n.key ? html` aria-current="page"` : ''}
                            >${n.label}</a
                          >
                        </li>`,
                    )}
                  </ul>
                </nav>
                <form class="signout" method="post" action="/sign-out">
                  <span class="who">${user.username} <span class="role">(${user.role})</span></span>
                  <input type="hidden" name="_csrf" value="${frame.csrfToken}" />
                  <button type="submit">Sign out</button>
                </form>`
            : ''}
        </header>
        <main id="main">
          <h1>${frame.title}</h1>
          ${content}
        </main>
      </body>
    </html> `.markup;
}

/** The console's stylesheet: high contrast, visible focus, readable on a laptop; served same-origin. */
export const CONSOLE_CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;background:#fff}
a{color:#0645ad}
a:focus,button:focus,input:focus,select:focus{outline:3px solid #ffbf47;outline-offset:1px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px}
.top{display:flex;flex-wrap:wrap;align-items:center;gap:16px;padding:8px 16px;background:#1d2433;color:#fff}
.top a{color:#fff}.top nav ul{display:flex;gap:16px;list-style:none;margin:0;padding:0}
.top a[aria-current=page]{font-weight:700;text-decoration:underline}
.brand{font-weight:700}.signout{margin-left:auto;display:flex;gap:8px;align-items:center}
main{padding:16px;max-width:1280px}
h1{font-size:1.5rem;margin:.2em 0 .6em}h2{font-size:1.2rem;margin-top:1.4em}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{border:1px solid #9aa3b2;padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#e8ebf0}
tr.broken td{background:#fde2e1}
form.search{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:flex-end;margin-bottom:12px}
form.search label{display:flex;flex-direction:column;font-size:.9rem}
input,select,button{font:inherit;padding:4px 6px;border:1px solid #555;border-radius:3px}
button{background:#1d4ed8;color:#fff;border-color:#1d4ed8;cursor:pointer}
.badge{display:inline-block;padding:4px 10px;border-radius:4px;font-weight:700}
.badge.verified{background:#0b6b2f;color:#fff}.badge.broken{background:#b00020;color:#fff}
.badge.empty{background:#555;color:#fff}
.note{color:#333}.error{color:#b00020;font-weight:700}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dl.facts dt{font-weight:700}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f4f5f7;padding:8px;border:1px solid #ccd}
ul.details{margin:0;padding-left:1.1em}
table.timeline th:nth-child(1){width:4%}table.timeline th:nth-child(2){width:10%}
table.timeline th:nth-child(3),table.timeline th:nth-child(4),table.timeline th:nth-child(5){width:8%}
table.timeline th:nth-child(6){width:7%}table.timeline th:nth-child(7){width:5%}
table.timeline th:nth-child(8){width:9%}table.timeline th:nth-child(9),table.timeline th:nth-child(11){width:8%}
table.headers th.name{width:18em}
table.pipeline tr[data-ready=no] td[data-field=ready]{background:#fde2e1;color:#7a0014;font-weight:700}
table.pipeline tr[data-ready=yes] td[data-field=ready]{color:#0b6b2f;font-weight:700}
figure.chart{margin:8px 0 16px;max-width:680px}figure.chart>svg{width:100%;height:auto;display:block;border:1px solid #9aa3b2;background:#fff}
figure.chart figcaption{font-size:.9rem}.chart-title{font-weight:700}
ul.legend{display:flex;flex-wrap:wrap;gap:4px 16px;list-style:none;margin:4px 0;padding:0}
section.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:0 24px}section.charts>h3{grid-column:1/-1;margin-bottom:0}
table.funders tr[data-circuit=open] td[data-field=circuit]{background:#fde2e1;color:#7a0014;font-weight:700}
table.funders tr[data-circuit=half_open] td[data-field=circuit]{background:#fff4ce;color:#5c3b00;font-weight:700}
table.at-risk tr[data-passed=yes] td[data-field=left]{color:#7a0014;font-weight:700}
`;
