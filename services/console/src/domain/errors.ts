/** The console's own refusals, each with a stable code (the problem mapper gives the status by kind). */
import { DomainError } from '@puhui/errors';

export class NotSignedIn extends DomainError {
  constructor(detail = 'Sign in first.') {
    super('unauthenticated', 'not_signed_in', 'Not signed in', { detail });
  }
}

/** The same answer for an unknown username, a wrong password, an invited or a disabled account. */
export class InvalidCredentials extends DomainError {
  constructor() {
    super('unauthenticated', 'invalid_credentials', 'Invalid credentials', {
      detail: 'The username or password is wrong.',
    });
  }
}

export class InvalidTotp extends DomainError {
  constructor() {
    super('unauthenticated', 'invalid_totp', 'Invalid code', {
      detail:
        'The code is wrong, expired or already used. Enter the current code from your authenticator app.',
    });
  }
}

export class SignInLocked extends DomainError {
  constructor(retryAfterSeconds: number) {
    super('rate_limited', 'sign_in_locked', 'Sign-in locked', {
      detail: `Too many failed sign-ins: this account is locked for ${Math.ceil(retryAfterSeconds / 60)} more minutes.`,
      extensions: { retry_after_seconds: retryAfterSeconds },
    });
  }
}

export class BadOrigin extends DomainError {
  constructor() {
    super('forbidden', 'bad_origin', 'Bad origin', {
      detail: 'A request that changes something must come from the console itself (Origin header).',
    });
  }
}

export class CsrfTokenInvalid extends DomainError {
  constructor() {
    super('forbidden', 'csrf_token_invalid', 'CSRF token invalid', {
      detail: 'Send the session’s csrf_token in the X-CSRF-Token header.',
    });
  }
}

export class WrongStage extends DomainError {
  constructor(stage: string, detail: string) {
    super('conflict', 'wrong_stage', 'Not at this step of sign-in', { detail, extensions: { stage } });
  }
}

export class SelfChangeRefused extends DomainError {
  constructor(detail: string) {
    super('forbidden', 'self_change_refused', 'Not on your own account', { detail });
  }
}
