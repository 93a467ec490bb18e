"""Load the engine into this process and return the bridge's entry points.

Two engines, one contract: the extension module ``cs_futures._engine``, one builtin function an entry
point (``EngineModule``), with ``DESCRIPTION`` (``NativeEntryPoints.Description``: each entry's name,
kind and signature, the shared enums and messages) and ``VERSION``.

- **native**: ``_engine.abi3.so``, the engine and the bridge compiled ahead of time (.NET Native AOT,
  stable ABI: one file for CPython 3.11 to 3.15). The import system loads it like any extension
  module (its ``PyInit__engine``); ``ctypes`` is never imported. No .NET runtime is needed; it is
  used whenever the package holds it (the platform wheel).
- **runtime**: the assemblies in ``_dotnet`` on the .NET runtime (CoreCLR), started either by the
  ``pythonnet`` package, when it is importable (``pythonnet.load("coreclr")``), or with the standard
  library alone: ``ctypes`` loads ``libhostfxr`` and asks it for ``ClusterEntryPoints.CreateModule``
  (``Futures.Interop.Cluster``: it adds the cluster's entries, then makes the module) or, when the
  assemblies were published without the cluster side, ``NativeEntryPoints.CreateModule``; either makes
  the same module (called once, through ctypes; every later call is a builtin's).

``CS_FUTURES_ENGINE=native`` or ``=runtime`` forces one. What truly needs CoreCLR (pythonnet's
``import clr`` through :func:`enable_clr`, the cluster executor) calls :func:`load_runtime`, which
starts it on first use beside the native engine; pythonnet's ``Python.Runtime`` itself starts only in
:func:`enable_clr` (about 150 ms; the hot path does not need it).

The runtime is found through ``DOTNET_ROOT``, then ``dotnet`` on ``PATH``, then the usual install
folders. The assemblies ship in the package's ``_dotnet`` folder (or ``CS_FUTURES_DOTNET_DIR``): the
publish of ``src/Futures.Interop.Cluster``, which brings ``Futures.Interop`` (pythonnet hosting) and
``Futures.Interop.Bridge`` (the bridge) with it.
"""
import os
import sys

ASSEMBLY = "Futures.Interop"
# The natively compiled engine, an extension module on the stable ABI (built on Linux x86-64).
NATIVE_MODULE = "_engine" + (".pyd" if sys.platform == "win32" else ".abi3.so")
ENTRY_TYPE = "CsFutures.Interop.Bridge.NativeEntryPoints"
# The assembly of NativeEntryPoints: the C-API bridge (src/Futures.Interop.Bridge), which Futures.Interop
# (pythonnet hosting, ClrBridge) builds on.
BRIDGE_ASSEMBLY = "Futures.Interop.Bridge"
# The cluster side of the bridge (CsFutures.Interop.Cluster): the runtime-hosted engine starts through it
# when the folder holds it, so that the module has the cluster's entries (cluster_new...) too.
CLUSTER_ASSEMBLY = "Futures.Interop.Cluster"
CLUSTER_ENTRY_TYPE = "CsFutures.Interop.Cluster.Bridge.ClusterEntryPoints"
PUBLISH_COMMAND = "dotnet publish src/Futures.Interop.Cluster -c Release -o python/cs_futures/_dotnet"
REQUIRED_RUNTIME = (10, 0)

_USUAL_ROOTS = (
    "/usr/share/dotnet",
    "/usr/lib/dotnet",
    "/usr/local/share/dotnet",
    "/opt/dotnet",
    "~/.dotnet",
    "C:\\Program Files\\dotnet",
)


def assemblies_dir():
    """The folder holding Futures.Interop.dll and its dependencies."""
    override = os.environ.get("CS_FUTURES_DOTNET_DIR")
    folder = override or os.path.join(os.path.dirname(os.path.abspath(__file__)), "_dotnet")
    if not os.path.isfile(os.path.join(folder, ASSEMBLY + ".dll")):
        how = ("build them from a source checkout with\n"
               f"    {PUBLISH_COMMAND}\n"
               "or install the cs_futures wheel, which contains them")
        raise ImportError(
            f"cs_futures: the .NET assemblies are missing: {ASSEMBLY}.dll was not found in {folder}"
            + (" (from CS_FUTURES_DOTNET_DIR)" if override else "") + f"; {how}")
    return folder


def _root_assembly(folder):
    """(assembly, entry type, the entry type's assembly) through which the runtime-hosted engine starts:
    the cluster side when the folder holds it (its ``CreateModule`` adds the cluster's entries), else
    Futures.Interop (whose runtime configuration and dependencies the folder holds) with the bridge's
    ``NativeEntryPoints``."""
    if os.path.isfile(os.path.join(folder, CLUSTER_ASSEMBLY + ".dll")):
        return CLUSTER_ASSEMBLY, CLUSTER_ENTRY_TYPE, CLUSTER_ASSEMBLY
    return ASSEMBLY, ENTRY_TYPE, BRIDGE_ASSEMBLY


def _version(text):
    parts = []
    for piece in text.split("-")[0].split("."):
        parts.append(int(piece) if piece.isdigit() else 0)
    return tuple(parts)


def _candidate_roots():
    if os.environ.get("DOTNET_ROOT"):
        yield "DOTNET_ROOT", os.environ["DOTNET_ROOT"]
    import shutil  # here, not at import: the native engine never looks for a runtime
    dotnet = shutil.which("dotnet")
    if dotnet:
        yield "dotnet on PATH", os.path.dirname(os.path.realpath(dotnet))
    for root in _USUAL_ROOTS:
        yield "usual folder", os.path.expanduser(root)


def find_runtime():
    """Return (dotnet_root, libhostfxr path) of a .NET installation with runtime 10 or later.

    Raises ImportError naming every place looked at and how to fix it.
    """
    import glob
    tried = []
    lib = {"win32": "hostfxr.dll", "darwin": "libhostfxr.dylib"}.get(sys.platform, "libhostfxr.so")
    for source, root in _candidate_roots():
        fxr = glob.glob(os.path.join(root, "host", "fxr", "*", lib))
        runtimes = [os.path.basename(p) for p in
                    glob.glob(os.path.join(root, "shared", "Microsoft.NETCore.App", "*"))]
        usable = [v for v in runtimes if _version(v)[:2] >= REQUIRED_RUNTIME]
        if fxr and usable:
            best = max(fxr, key=lambda p: _version(os.path.basename(os.path.dirname(p))))
            return root, best
        found = ", ".join(sorted(runtimes)) or "no runtime"
        tried.append(f"{root} ({source}): {found}")
    raise ImportError(
        "cs_futures needs the .NET runtime Microsoft.NETCore.App %d.%d or later, which was not found.\n"
        "Looked in:\n  %s\n"
        "Install the .NET %d runtime or SDK (https://dotnet.microsoft.com/download), or set "
        "DOTNET_ROOT to the folder that holds it." % (
            REQUIRED_RUNTIME + ("\n  ".join(tried),) + (REQUIRED_RUNTIME[0],)))


def _encode(text):
    import ctypes
    if sys.platform == "win32":
        return ctypes.c_wchar_p(text)
    return text.encode("utf-8")


def _load_with_pythonnet(folder, root):
    import pythonnet
    name, entry_type, entry_assembly = _root_assembly(folder)
    if "clr" not in sys.modules:
        pythonnet.load("coreclr", runtime_config=os.path.join(folder, name + ".runtimeconfig.json"),
                       dotnet_root=root)
    import clr
    import importlib
    clr.AddReference(os.path.join(folder, ASSEMBLY + ".dll"))
    clr.AddReference(os.path.join(folder, name + ".dll"))
    clr.AddReference(os.path.join(folder, entry_assembly + ".dll"))
    namespace, _, type_name = entry_type.rpartition(".")
    factory = getattr(importlib.import_module(namespace), type_name).ModuleFactory
    return _create_module(factory.ToInt64())


def _load_with_hostfxr(folder, root, hostfxr_path):
    import ctypes
    char_p = ctypes.c_wchar_p if sys.platform == "win32" else ctypes.c_char_p
    fxr = ctypes.CDLL(hostfxr_path)

    class InitParameters(ctypes.Structure):
        _fields_ = [("size", ctypes.c_size_t), ("host_path", char_p), ("dotnet_root", char_p)]

    fxr.hostfxr_initialize_for_runtime_config.argtypes = [
        char_p, ctypes.POINTER(InitParameters), ctypes.POINTER(ctypes.c_void_p)]
    fxr.hostfxr_initialize_for_runtime_config.restype = ctypes.c_int32
    fxr.hostfxr_get_runtime_delegate.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.POINTER(ctypes.c_void_p)]
    fxr.hostfxr_get_runtime_delegate.restype = ctypes.c_int32
    fxr.hostfxr_close.argtypes = [ctypes.c_void_p]
    fxr.hostfxr_close.restype = ctypes.c_int32

    name, entry_type, entry_assembly = _root_assembly(folder)
    config = os.path.join(folder, name + ".runtimeconfig.json")
    params = InitParameters(ctypes.sizeof(InitParameters), _encode(sys.executable), _encode(root))
    context = ctypes.c_void_p()
    rc = fxr.hostfxr_initialize_for_runtime_config(_encode(config), ctypes.byref(params), ctypes.byref(context))
    if rc not in (0, 1, 2):  # Success, HostAlreadyInitialized, DifferentRuntimeProperties
        raise ImportError(
            f"cs_futures: the .NET runtime under {root} could not start for {config} "
            f"(hostfxr error 0x{rc & 0xffffffff:08x}); check that Microsoft.NETCore.App "
            f"{REQUIRED_RUNTIME[0]}.x is installed there, or set DOTNET_ROOT")
    load_delegate = ctypes.c_void_p()
    rc = fxr.hostfxr_get_runtime_delegate(context, 5, ctypes.byref(load_delegate))  # load_assembly_and_get_function_pointer
    fxr.hostfxr_close(context)
    if rc != 0:
        raise ImportError(f"cs_futures: hostfxr_get_runtime_delegate failed (0x{rc & 0xffffffff:08x})")
    load = ctypes.CFUNCTYPE(ctypes.c_int32, char_p, char_p, char_p, ctypes.c_void_p, ctypes.c_void_p,
                            ctypes.POINTER(ctypes.c_void_p))(load_delegate.value)
    # Every function is asked of this one assembly: one load context, one copy of the bridge.
    assembly = os.path.join(folder, name + ".dll")

    def function(type_name, method, delegate_type):
        address = ctypes.c_void_p()
        rc = load(_encode(assembly), _encode(type_name), _encode(method), delegate_type, None,
                  ctypes.byref(address))
        if rc != 0:
            raise ImportError(f"cs_futures: {type_name}.{method} could not be loaded from {assembly} "
                              f"(0x{rc & 0xffffffff:08x}); rebuild the assemblies")
        return address.value

    unmanaged_callers_only = ctypes.c_void_p(-1)
    module = _create_module(function(f"{entry_type}, {entry_assembly}", "CreateModule", unmanaged_callers_only))

    def start_pythonnet():
        # In the bridge's load context (resolved through its deps.json), so that pythonnet and the
        # bridge share one copy of the engine.
        initialize = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32)(
            function("Python.Runtime.Loader, Python.Runtime", "Initialize", None))
        empty = ctypes.create_string_buffer(b"")
        if initialize(ctypes.addressof(empty), 0) != 0:
            raise ImportError("cs_futures: pythonnet (Python.Runtime.Loader.Initialize) failed to start")

    global _start_pythonnet
    _start_pythonnet = start_pythonnet
    return module


def _create_module(address):
    """The engine module of the runtime-hosted bridge: ``ClusterEntryPoints.CreateModule`` or
    ``NativeEntryPoints.CreateModule`` (at ``address``) called once with this interpreter's handle."""
    import ctypes
    create = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p)(address)
    try:
        return create(ctypes.pythonapi._handle)
    except Exception as exc:
        raise ImportError(f"cs_futures: the .NET bridge could not make its module: {exc}") from exc


_start_pythonnet = None


def enable_clr():
    """Make ``import clr`` (pythonnet) work in this process, on the runtime of cs_futures (started
    by :func:`load_runtime` when the main engine is the native one)."""
    global _start_pythonnet
    if "clr" in sys.modules:
        return
    load_runtime("enable_clr() (pythonnet: .NET callables and import clr)")
    if "clr" in sys.modules:  # started by the pythonnet package
        return
    if _start_pythonnet is None:
        raise ImportError("cs_futures: .NET is not loaded")
    start, _start_pythonnet = _start_pythonnet, None
    start()
    import clr
    clr.AddReference(ASSEMBLY)


class Contract:
    """What the bridge offers: its module and what its description says
    (``NativeEntryPoints.Description``).

    ``module``: the engine module (``cs_futures._engine``), whose builtins are the entry points;
    ``engine``: "native" (the natively compiled library) or "runtime" (the assemblies on CoreCLR);
    ``version``: the bridge's version; ``entries``: name -> (kind, signature);
    ``enums``: type name -> {member name: value}; ``messages``: name -> text; ``numbers``: name -> float.
    """

    def __init__(self, module, engine="runtime"):
        self.module = module
        self.engine = engine
        text = module.DESCRIPTION
        self.version = None
        self.entries = {}
        self.enums = {}
        self.messages = {}
        self.numbers = {}
        for line in text.splitlines():
            fields = line.split("\t")
            if fields[0] == "version":
                self.version = int(fields[1])
            elif fields[0] == "entry":
                name, kind, signature = fields[1:4]
                self.entries[name] = (kind, signature)
            elif fields[0] == "enum":
                self.enums.setdefault(fields[1], {})[fields[2]] = int(fields[3])
            elif fields[0] == "message":
                self.messages[fields[1]] = fields[2]
            elif fields[0] == "number":
                self.numbers[fields[1]] = float(fields[2])


ENGINES = ("native", "runtime")
_main = None     # the contract load() returned
_runtime = None  # the CoreCLR contract, once started


def native_library():
    """The path of the natively compiled engine in this package (it may not exist)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), NATIVE_MODULE)


def _load_native(path):
    try:
        from . import _engine
    except ImportError as exc:
        raise ImportError(f"cs_futures: the native engine {path} could not be imported: {exc}") from exc
    return _engine


def load():
    """Load the main engine (once per process) and return its :class:`Contract`: the native library
    when the package holds it, else the .NET runtime's (``CS_FUTURES_ENGINE`` forces one)."""
    global _main
    if _main is not None:
        return _main
    forced = os.environ.get("CS_FUTURES_ENGINE", "").strip().lower()
    if forced and forced not in ENGINES:
        raise ImportError(f"cs_futures: CS_FUTURES_ENGINE={forced!r}: expected 'native' or 'runtime'")
    path = native_library()
    if forced == "native" or (not forced and os.path.isfile(path)):
        if not os.path.isfile(path):
            raise ImportError(
                f"cs_futures: CS_FUTURES_ENGINE=native, but the natively compiled engine is missing "
                f"({path}): install the platform wheel of cs_futures, or build it from a source checkout "
                f"with\n    bash -c 'source scripts/common.sh; build_native'\n(needs clang); or unset CS_FUTURES_ENGINE to use the "
                f".NET runtime")
        _main = Contract(_load_native(path), "native")
    else:
        _main = load_runtime()
    return _main


def load_runtime(needed_by=None):
    """Start the .NET runtime (CoreCLR, once per process) and return its bridge's :class:`Contract`
    (the main one when the main engine is the runtime's).

    ``needed_by`` names what asks for it, for the ImportError raised when no .NET runtime is found.
    """
    global _runtime
    if _runtime is not None:
        return _runtime
    # W^X maps JIT-compiled code through shared memory; a child forked from this process could then
    # write into code its parent runs. Off, the child's copy is private (and start-up is faster).
    os.environ.setdefault("DOTNET_EnableWriteXorExecute", "0")
    try:
        folder = assemblies_dir()
        root, hostfxr_path = find_runtime()
    except ImportError as exc:
        if _main is None:  # the runtime is the main engine: the message says it all
            raise
        raise ImportError(
            f"cs_futures: {needed_by or 'this feature'} needs the .NET runtime, which the native engine "
            f"does not: install the .NET 10 runtime (https://dot.net), or set DOTNET_ROOT to the folder "
            f"that holds it.\n{exc}") from None
    try:
        import pythonnet  # noqa: F401  (the standard loader, when installed)
    except ImportError:
        _runtime = Contract(_load_with_hostfxr(folder, root, hostfxr_path), "runtime")
    else:
        _runtime = Contract(_load_with_pythonnet(folder, root), "runtime")
    return _runtime
