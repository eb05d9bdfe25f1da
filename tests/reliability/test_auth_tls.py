"""Passwords (salted slow hashes, lockout, expiry, change) and the optional TLS listener."""
from __future__ import annotations

import asyncio
import base64
import datetime as dt
import shutil
import ssl
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from clients import Client
from clients.errors import LoginRejected, RequestRejected
from gateway.auth import SCRYPT_N, hash_password, verify_password
from gateway.server import Gateway
from protocol.framing import FramingError
from protocol.messages import session as ms
from protocol.status import SessionStatus as St
from tests.conftest import settings
from tests.raw import Raw

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- hashes
def test_shipped_passwords_are_salted_slow_hashes_only():
    data = tomllib.loads(resources.files("gateway").joinpath("data/users.toml").read_text())
    salts = set()
    for name, u in data["users"].items():
        assert set(u) & {"password", "plain_password"} == set(), f"{name}: a clear-text password is stored"
        algo, n, r, p, salt, dk = u["password_hash"].split("$")
        assert algo == "scrypt" and int(n) >= 2**14 and int(r) >= 8, name
        assert len(base64.b64decode(salt)) >= 16 and len(base64.b64decode(dk)) >= 32, name
        salts.add(salt)
    assert len(salts) == len(data["users"]), "every hash has its own salt"


def test_hash_and_verify():
    h1, h2 = hash_password("pass-word-1"), hash_password("pass-word-1")
    assert h1 != h2 and h1.startswith(f"scrypt${SCRYPT_N}$")        # salted: same password, other hash
    assert verify_password("pass-word-1", h1) and verify_password("pass-word-1", h2)
    assert not verify_password("pass-word-2", h1)
    assert not verify_password("pass-word-1", h1[:-4] + "AAA=")      # tampered
    assert not verify_password("x", "not-a-hash") and not verify_password("x", "md5$1$2$3$4$5")


# ---------------------------------------------------------------- lockout, expiry, change
def users_file(tmp_path: Path, business_date: dt.date) -> Path:
    soon = business_date - dt.timedelta(days=90 - 3)    # expires in 3 days
    lines = []
    for user, changed in (("FRESH1", business_date), ("SOON1", soon), ("OLD1", business_date - dt.timedelta(days=200))):
        lines += [f"[users.{user}]", 'role = "participant"', 'participant = "CPA01"',
                  f'password_hash = "{hash_password("pass-" + user, n=2**12)}"',
                  f'password_changed = "{changed.isoformat()}"', "password_lifetime_days = 90", ""]
    p = tmp_path / "users.toml"
    p.write_text("\n".join(lines))
    return p


@pytest.fixture
def gateway_settings(tmp_path):
    return settings(users_file=str(users_file(tmp_path, dt.date(2026, 11, 23))), login_failures_before_lock=3,
                    lock_seconds=0.6, login_failure_window=30.0)


async def login(gateway, user, password=None):
    c = Client("127.0.0.1", gateway.port, user, password or f"pass-{user}", auto_reconnect=False)
    await c.connect()
    return c


async def test_lockout_then_unlock(gateway):
    for _ in range(3):
        with pytest.raises(LoginRejected) as e:
            await login(gateway, "FRESH1", "wrong-password")
        assert e.value.session_status == St.INVALID_CREDENTIALS
    with pytest.raises(LoginRejected) as e:     # locked: even the right password is refused
        await login(gateway, "FRESH1")
    assert e.value.session_status == St.ACCOUNT_LOCKED
    other = await login(gateway, "SOON1")        # other users are not affected
    await other.close()
    await asyncio.sleep(0.7)                     # lock_seconds later
    c = await login(gateway, "FRESH1")
    assert c.login_status == St.OK
    await c.close()


async def test_expiry_warning_restriction_and_change(gateway):
    soon = await login(gateway, "SOON1")
    assert soon.login_status == St.PASSWORD_EXPIRES_SOON
    assert soon.login_reply.password_expiry_date == "20261126"
    await soon.close()
    old = await login(gateway, "OLD1")
    assert old.login_status == St.PASSWORD_MUST_CHANGE
    with pytest.raises(RequestRejected) as e:
        await old.query(ms.BusinessDateQuery())
    assert e.value.session_status == St.PASSWORD_EXPIRED
    for bad, field in (("short", "new_password"), ("pass-OLD1", "new_password"), ("has space 123", "new_password")):
        with pytest.raises(RequestRejected) as e:
            await old.transact(ms.ChangePasswordRequest(old_password="pass-OLD1", new_password=bad))
        assert (e.value.session_status, e.value.field) == (St.PASSWORD_POLICY, field)
    with pytest.raises(RequestRejected) as e:
        await old.transact(ms.ChangePasswordRequest(old_password="not-the-old", new_password="Brand-New-1"))
    assert (e.value.session_status, e.value.field) == (St.INVALID_CREDENTIALS, "old_password")
    await old.transact(ms.ChangePasswordRequest(old_password="pass-OLD1", new_password="Brand-New-1"))
    assert (await old.query(ms.BusinessDateQuery())).business_date == "20261123"
    await old.close()
    stored = gateway.users.get("OLD1")
    assert stored.password_hash.startswith("scrypt$") and "Brand-New-1" not in stored.password_hash
    assert stored.password_changed == dt.date(2026, 11, 23)
    with pytest.raises(LoginRejected):
        await login(gateway, "OLD1")                               # the old password no longer works
    c = await login(gateway, "OLD1", "Brand-New-1")
    assert c.login_status == St.OK and c.login_reply.password_expiry_date == "20270221"
    await c.close()


# ---------------------------------------------------------------- TLS
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        if shutil.which("openssl") is None:
            pytest.skip("neither the cryptography package nor the openssl command is available to make a "
                        "test certificate")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
        return cert, key
    import ipaddress
    k = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    c = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(k.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
         .not_valid_after(now + dt.timedelta(days=2))
         .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                     x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
         .sign(k, hashes.SHA256()))
    cert.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return cert, key


async def test_tls_listener(tmp_path):
    cert, key = self_signed(tmp_path)
    gw = Gateway(settings(tls_cert=str(cert), tls_key=str(key)))
    await gw.start()
    try:
        trust = ssl.create_default_context(cafile=str(cert))
        c = Client("127.0.0.1", gw.port, "CPA01", "pass-CPA01", ssl=trust, auto_reconnect=False)
        await c.connect()
        assert (await c.query(ms.BusinessDateQuery())).business_date == "20261123"
        conn = next(iter(gw.connections))
        assert conn.transport.get_extra_info("ssl_object").version() in ("TLSv1.2", "TLSv1.3")
        await c.close()
        # a client that does not trust the certificate gets no session
        with pytest.raises(ssl.SSLCertVerificationError) as refused:
            await Client("127.0.0.1", gw.port, "CPA01", "pass-CPA01", ssl=ssl.create_default_context(),
                         auto_reconnect=False).connect()
        from clients import CertificateRejected, ClientError
        assert isinstance(refused.value, CertificateRejected) and isinstance(refused.value, ClientError)
        # plain TCP to a TLS listener: no OAPI frame comes back, the connection ends
        raw = await Raw.open(gw.port)
        raw.send_msg(ms.LoginRequest(user="CPA01", password="pass-CPA01"))
        with pytest.raises((ConnectionError, asyncio.TimeoutError, FramingError)):
            await raw.next(2)   # a TLS alert is not a frame, or nothing, then the close
        raw.close()
    finally:
        await gw.stop()


def test_tls_needs_both_files(tmp_path):
    p = subprocess.run([sys.executable, "-m", "gateway", "--port", "0", "--tls-cert", str(tmp_path / "c.pem")],
                       cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "TLS needs both" in p.stderr
