import { html } from '../http/html';
import { page } from '../http/layout';

/** The sign-in form; `error` is shown as given (it never says which of name or password was wrong). */
export function signInPage(csrfToken: string, next: string, error: string | null): string {
  return page(
    { title: 'Sign in', principal: null, csrfToken },
    html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      <form method="post" action="/sign-in" class="search">
        <input type="hidden" name="_csrf" value="${csrfToken}" />
        <input type="hidden" name="next" value="${next}" />
        <label for="username"
          >User name<input id="username" name="username" autocomplete="username" required autofocus
        /></label>
        <label for="password"
          >Password<input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
        /></label>
        <button type="submit">Sign in</button>
      </form>`,
  );
}
