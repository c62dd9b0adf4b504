"""The HTML pages: registration, login with TOTP, comments, notes, avatar, admin."""

from __future__ import annotations

import io
import logging
import secrets
from typing import Final

from flask import Blueprint, Response, abort, redirect, render_template, request
from pydantic import TypeAdapter, ValidationError
from werkzeug.wrappers import Response as BaseResponse

from securekit.errors import (
    DecryptionError,
    MFAError,
    UploadRejectedError,
    WeakPasswordError,
)
from securekit.headers import parse_csp_reports
from securekit.integrations.flask import current_context
from securekit.mfa import generate_totp_secret
from securekit.uploads import CheckedUpload, download_headers, safe_join
from securekit.validation import Username, validate_text

from .db import Avatar, User
from .services import CSP_REPORT_PATH
from .web import (
    STAGE_FULL,
    STAGE_MFA,
    client_ip,
    current_user,
    decode_blob,
    encode_blob,
    log_in,
    log_out,
    require_user,
    services,
    session_data,
    subject_of,
    update_session,
)

__all__ = ["bp"]

bp = Blueprint("pages", __name__)
log = logging.getLogger("securekit.demo")

_USERNAME: Final = TypeAdapter(Username)
#: Longest form values read at all; longer input gets the generic answer.
_MAX_USERNAME_INPUT: Final = 64
_MAX_PASSWORD_INPUT: Final = 1024
_COMMENT_MAX: Final = 2000
_NOTE_MAX: Final = 5000
#: The single answer for every failed login: unknown user, wrong password,
#: missing field (OWASP Authentication Cheat Sheet, "Authentication Responses").
LOGIN_FAILED: Final = "Invalid username or password."
_TOTP_CONTEXT: Final = "demo/users.totp_secret:{user_id}"
_PENDING_CONTEXT: Final = "demo/session.pending_totp:{user_id}"
_NOTE_CONTEXT: Final = "demo/notes.body:{owner_id}:{note_id}"


def _form(name: str) -> str:
    value = request.form.get(name, "")
    # Browsers send CRLF line ends in text areas; the validators reject CR.
    return value.replace("\r\n", "\n")


def note_context(owner_id: int, note_id: str) -> bytes:
    """The AEAD context of a note: a ciphertext moved to another row or owner fails."""
    return _NOTE_CONTEXT.format(owner_id=owner_id, note_id=note_id).encode()


def totp_context(user_id: int) -> bytes:
    """The AEAD context of a user's stored TOTP secret."""
    return _TOTP_CONTEXT.format(user_id=user_id).encode()


def totp_secret(user: User) -> str:
    """Decrypt the user's TOTP secret (the caller checked that there is one)."""
    envelope = user.totp_secret or b""
    return services().aead.decrypt(envelope, context=totp_context(user.id)).decode("ascii")


def _redirect(path: str) -> BaseResponse:
    # Only fixed, local paths: no user-controlled redirect targets here.
    return redirect(path, code=303)


@bp.get("/")
def home() -> str:
    """Comments from everyone; the form for logged-in users."""
    return render_template("home.html", comments=services().db.comments())


@bp.route("/register", methods=["GET", "POST"])
def register() -> str | BaseResponse | tuple[str, int]:
    """Create an account: username allowlist, NIST password policy, Argon2id."""
    if request.method == "GET":
        return render_template("register.html", errors=[])
    svc = services()
    svc.registrations.check(f"ip:{client_ip()}")
    errors: list[str] = []
    raw_name = _form("username")
    password = request.form.get("password", "")
    username = ""
    try:
        username = _USERNAME.validate_python(raw_name[: _MAX_USERNAME_INPUT + 1])
    except ValidationError:
        errors.append("Usernames are 3 to 32 letters, digits, '.', '_' or '-'.")
    if password != request.form.get("confirm", ""):
        errors.append("The two passwords differ.")
    else:
        try:
            svc.password_policy.check(password, context=(username,) if username else ())
        except WeakPasswordError as exc:
            errors.append(_password_advice(exc))
    if errors:
        return render_template("register.html", errors=errors, username=raw_name[:64]), 422
    user = svc.db.create_user(username, svc.hasher.hash(password), now=svc.clock())
    if user is None:
        # Registration must reveal that a name is taken; logins never do.
        return render_template(
            "register.html", errors=["That username is taken."], username=username
        ), 409
    log.info("registered user %d (%s)", user.id, user.role)
    log_in(user.id, STAGE_FULL)
    return _redirect("/")


def _password_advice(exc: WeakPasswordError) -> str:
    return {
        "too_short": "Use at least 15 characters (a few random words work well).",
        "too_long": "That password is too long.",
        "common": "That password is too common: attackers try it first.",
        "context": "Do not use your username or the site's name in the password.",
        "breached": "That password appeared in a data breach.",
        "repetitive": "That password is too repetitive.",
        "forbidden_character": "That password contains characters that are not allowed.",
    }.get(exc.reason.value, "Choose a different password.")


# --8<-- [start:login]
@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse | tuple[str, int]:
    """Log in: throttled, enumeration-safe, upgrading old hashes."""
    if request.method == "GET":
        return render_template("login.html", error=None)
    svc = services()
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    # The throttle counts before any password work, for real and unknown users alike.
    throttle_name = username[:_MAX_USERNAME_INPUT].lower()
    svc.throttle.check(username=throttle_name, ip=client_ip())
    user = None
    if len(username) <= _MAX_USERNAME_INPUT and len(password) <= _MAX_PASSWORD_INPUT:
        user = svc.db.user_by_name(username)
    # verify(password, None) costs as much as a real check: timing tells nothing.
    ok, upgraded = svc.hasher.verify_and_update(
        password if len(password) <= _MAX_PASSWORD_INPUT else "",
        None if user is None else user.password_hash,
    )
    if not ok or user is None:
        svc.throttle.failure(username=throttle_name, ip=client_ip())
        return render_template("login.html", error=LOGIN_FAILED, username=username[:64]), 401
    svc.throttle.success(username=throttle_name, ip=client_ip())
    if upgraded is not None:
        svc.db.set_password_hash(user.id, upgraded)
    if user.totp_secret is not None:
        log_in(user.id, STAGE_MFA)
        return _redirect("/login/totp")
    log_in(user.id, STAGE_FULL)
    return _redirect("/")


# --8<-- [end:login]


@bp.route("/login/totp", methods=["GET", "POST"])
def login_totp() -> str | BaseResponse | tuple[str, int]:
    """Second step for users with TOTP: a code from the app, or a recovery code."""
    session = current_context().session
    if session is None or session.data.get("stage") != STAGE_MFA or not session.user_id.isdigit():
        return _redirect("/login")
    svc = services()
    user = svc.db.user_by_id(int(session.user_id))
    if user is None or user.totp_secret is None:
        abort(401)
    if request.method == "GET":
        return render_template("login_totp.html", error=None)
    code = request.form.get("code", "").strip()[:64]
    try:
        if code.isdigit():
            svc.totp.verify(code, secret=totp_secret(user), user=str(user.id), ip=client_ip())
        else:
            svc.recovery_codes.use(code, user=str(user.id))
    except MFAError as exc:
        log.info("totp failed for user %d: %s", user.id, exc.reason.value)
        return render_template("login_totp.html", error="That code did not work."), 401
    log_in(user.id, STAGE_FULL)
    return _redirect("/")


@bp.post("/logout")
def logout() -> BaseResponse:
    """End the session server-side: the old cookie stops working everywhere."""
    log_out()
    return _redirect("/")


@bp.post("/comments")
def post_comment() -> BaseResponse:
    """Store a comment as typed; ``sanitize`` runs when it is displayed."""
    user = require_user()
    svc = services()
    svc.authz.check(subject_of(user), "comments.post")
    body = validate_text(_form("body"), max_length=_COMMENT_MAX, min_length=1, multiline=True)
    svc.db.add_comment(user.id, body, now=svc.clock())
    return _redirect("/")


@bp.get("/notes")
def notes() -> str:
    """The user's notes, decrypted for display only."""
    user = require_user()
    svc = services()
    svc.authz.check(subject_of(user), "notes.use")
    shown: list[tuple[str, str]] = []
    for note in svc.db.notes(user.id):
        try:
            text = svc.aead.decrypt(note.body, context=note_context(user.id, note.id)).decode()
        except DecryptionError:
            # A tampered or misplaced ciphertext is reported, never shown.
            log.warning("note %s failed authentication", note.id)
            text = "(this note could not be decrypted)"
        shown.append((note.id, text))
    return render_template("notes.html", notes=shown)


# --8<-- [start:notes]
@bp.post("/notes")
def add_note() -> BaseResponse:
    """Encrypt a note with Aead, bound to its owner and id, and store it."""
    user = require_user()
    svc = services()
    svc.authz.check(subject_of(user), "notes.use")
    text = validate_text(_form("body"), max_length=_NOTE_MAX, min_length=1, multiline=True)
    note_id = secrets.token_urlsafe(12)
    envelope = svc.aead.encrypt(text.encode(), context=note_context(user.id, note_id))
    svc.db.add_note(note_id, user.id, envelope, now=svc.clock())
    return _redirect("/notes")


# --8<-- [end:notes]


@bp.post("/notes/<note_id>/delete")
def delete_note(note_id: str) -> BaseResponse:
    """Delete one of the user's own notes (another user's id is simply not found)."""
    user = require_user()
    if not services().db.delete_note(note_id[:64], user.id):
        abort(404)
    return _redirect("/notes")


@bp.get("/account")
def account() -> str:
    """Avatar upload, TOTP status, log out everywhere."""
    user = require_user()
    avatar = services().db.avatar(user.id)
    return render_template("account.html", user=user, avatar=avatar, upload_error=None)


# --8<-- [start:avatar]
@bp.post("/account/avatar")
def upload_avatar() -> str | BaseResponse | tuple[str, int]:
    """Check the upload's real content, store it under a generated name."""
    user = require_user()
    svc = services()
    part = request.files.get("avatar")
    try:
        checked = svc.uploads.save(
            part.stream if part is not None else io.BytesIO(),
            svc.avatars_dir,
            filename=(part.filename if part is not None else None) or "",
            declared_type=(part.mimetype if part is not None else None) or None,
        )
    except UploadRejectedError as exc:
        log.info("avatar rejected for user %d: %s", user.id, exc.reason.value)
        return render_template(
            "account.html",
            user=user,
            avatar=svc.db.avatar(user.id),
            upload_error=f"That file was rejected: {exc}.",
        ), 400
    old = svc.db.set_avatar(
        Avatar(
            user_id=user.id,
            storage_name=checked.storage_name,
            extension=checked.extension,
            mime=checked.mime,
            size=checked.size,
            sha256=checked.sha256,
        )
    )
    if old is not None and old != checked.storage_name:
        safe_join(svc.avatars_dir, old).unlink(missing_ok=True)
    return _redirect("/account")


@bp.get("/avatars/<int:user_id>")
def avatar(user_id: int) -> Response:
    """Serve an avatar with its checked type, nosniff and a sandboxing CSP."""
    require_user()
    svc = services()
    record = svc.db.avatar(user_id)
    if record is None:
        abort(404)
    checked = CheckedUpload(
        storage_name=record.storage_name,
        extension=record.extension,
        mime=record.mime,
        size=record.size,
        sha256=record.sha256,
    )
    data = safe_join(svc.avatars_dir, record.storage_name).read_bytes()
    return Response(data, headers=download_headers(checked, inline=True))


# --8<-- [end:avatar]


@bp.route("/account/totp", methods=["GET", "POST"])
def totp_enrol() -> str | BaseResponse | tuple[str, int]:
    """Enrol TOTP: show a new secret, confirm it with a first code, then recovery codes."""
    user = require_user()
    svc = services()
    if user.totp_secret is not None:
        return render_template("totp.html", enrolled=True, secret=None, uri=None, error=None)
    pending = session_data().get("pending_totp")
    context = _PENDING_CONTEXT.format(user_id=user.id).encode()
    if not isinstance(pending, str):
        # The pending secret waits in the server-side session, encrypted.
        secret = generate_totp_secret()
        pending = encode_blob(svc.aead.encrypt(secret.encode(), context=context))
        update_session({"stage": STAGE_FULL, "pending_totp": pending})
    secret = svc.aead.decrypt(decode_blob(pending), context=context).decode("ascii")
    uri = svc.totp.provisioning_uri(secret, account=user.username)
    if request.method == "GET":
        return render_template("totp.html", enrolled=False, secret=secret, uri=uri, error=None)
    try:
        svc.totp.verify(
            request.form.get("code", "").strip()[:16],
            secret=secret,
            user=str(user.id),
            ip=client_ip(),
        )
    except MFAError:
        return render_template(
            "totp.html", enrolled=False, secret=secret, uri=uri, error="That code did not work."
        ), 400
    svc.db.set_totp_secret(
        user.id, svc.aead.encrypt(secret.encode(), context=totp_context(user.id))
    )
    update_session({"stage": STAGE_FULL})
    codes = svc.recovery_codes.generate(str(user.id))
    return render_template("recovery_codes.html", codes=codes)


@bp.post("/account/logout-everywhere")
def logout_everywhere() -> BaseResponse:
    """Revoke every session of this user (after a suspected compromise)."""
    user = require_user()
    services().sessions.destroy_all(str(user.id))
    log_out()
    return _redirect("/login")


@bp.get("/admin")
def admin() -> str:
    """Users list, for the ``admin`` role only (default-deny policy)."""
    user = current_user()
    services().authz.check(subject_of(user), "admin.view")
    return render_template("admin.html", users=services().db.users())


@bp.post(CSP_REPORT_PATH)
def csp_report() -> tuple[str, int]:
    """Collect CSP violation reports (bounded size, parsed strictly, logged)."""
    reports = parse_csp_reports(
        request.get_data(cache=False), content_type=request.content_type or ""
    )
    for report in reports:
        log.warning(
            "CSP violation: %s blocked %s", report.effective_directive, report.blocked_uri[:200]
        )
    services().csp_reports.add(reports)
    return "", 204
