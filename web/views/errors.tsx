/**
 * Error pages: 404, 400 and 500 with a message a person can act on (never a stack).
 */
import type { FC } from 'hono/jsx';

/** An error page's content. */
export const ErrorPage: FC<{ status: number; title: string; message: string; signedIn?: boolean }> = ({ status, title, message, signedIn = true }) => (
  <div class="page error-page" id="error-page">
    <div class="error-box">
      <div class="error-code">{status}</div>
      <h1>{title}</h1>
      <p class="error-message">{message}</p>
      <p>
        {signedIn ? (
          <a class="btn" href="/bots">
            Back to bots
          </a>
        ) : (
          <a class="btn" href="/sign-in">
            Sign in
          </a>
        )}
      </p>
    </div>
  </div>
);

/** An inline message (a fragment for forms and rows). */
export const InlineMessage: FC<{ ok: boolean; text: string }> = ({ ok, text }) => (
  <div class={`form-msg ${ok ? 'ok' : 'err'}`} role={ok ? 'status' : 'alert'}>
    {text}
  </div>
);
