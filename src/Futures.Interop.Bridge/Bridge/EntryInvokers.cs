namespace CsFutures.Interop.Bridge;

/// <summary>
/// How <see cref="EngineModule"/> calls an entry point (a managed function pointer: a plain call, no
/// transition out of and back into .NET) of a given signature: one function per
/// machine shape of <see cref="NativeEntryPoints"/>' signatures, where a handle, an object, an array
/// and a buffer are all a pointer (<c>P</c>), <c>i</c> is <c>I</c>, <c>q</c> is <c>Q</c> and
/// <c>d</c> is <c>D</c>. Each takes the entry's address and its converted arguments (one 64-bit slot
/// each; a double's bits) and returns the result widened to 64 bits.
/// </summary>
/// <remarks>Written out by hand because a C function pointer's type is fixed at compile time; a new
/// signature without a shape here fails <see cref="For"/>, which every entry goes through when the
/// module is made (and the tests make it).</remarks>
internal static unsafe class EntryInvokers
{
    /// <summary>The invoker for an entry's <c>return:parameters</c> signature.</summary>
    public static delegate*<IntPtr, long*, long> For(string signature) => Shape(signature) switch
    {
        "I_" => &I_,
        "I_II" => &I_II,
        "I_P" => &I_P,
        "I_PD" => &I_PD,
        "I_PI" => &I_PI,
        "I_PID" => &I_PID,
        "I_PII" => &I_PII,
        "I_PIIP" => &I_PIIP,
        "I_PIP" => &I_PIP,
        "I_PP" => &I_PP,
        "I_PPD" => &I_PPD,
        "P_" => &P_,
        "P_IPP" => &P_IPP,
        "P_IPPP" => &P_IPPP,
        "P_P" => &P_P,
        "P_PI" => &P_PI,
        "P_PIIP" => &P_PIIP,
        "P_PP" => &P_PP,
        "P_PPD" => &P_PPD,
        "P_PPDI" => &P_PPDI,
        "P_PPPP" => &P_PPPP,
        "Q_PI" => &Q_PI,
        "Q_PII" => &Q_PII,
        var shape => throw new NotSupportedException($"no invoker for the entry signature {signature} (shape {shape}): add one to EntryInvokers"),
    };

    /// <summary>The machine shape of a signature: "h:hod" is "P_PPD".</summary>
    public static string Shape(string signature)
    {
        static char Of(char letter) => letter switch
        {
            'h' or 'o' or 'p' or 'b' => 'P',
            'i' => 'I',
            'q' => 'Q',
            'd' => 'D',
            _ => throw new NotSupportedException($"unknown signature letter {letter}"),
        };
        int colon = signature.IndexOf(':');
        return Of(signature[0]) + "_" + string.Concat(signature[(colon + 1)..].Select(Of));
    }

    private static long I_(IntPtr f, long* a) => ((delegate*<int>)f)();
    private static long I_II(IntPtr f, long* a) => ((delegate*<int, int, int>)f)((int)a[0], (int)a[1]);
    private static long I_P(IntPtr f, long* a) => ((delegate*<IntPtr, int>)f)((IntPtr)a[0]);
    private static long I_PD(IntPtr f, long* a) => ((delegate*<IntPtr, double, int>)f)((IntPtr)a[0], BitConverter.Int64BitsToDouble(a[1]));
    private static long I_PI(IntPtr f, long* a) => ((delegate*<IntPtr, int, int>)f)((IntPtr)a[0], (int)a[1]);
    private static long I_PID(IntPtr f, long* a) => ((delegate*<IntPtr, int, double, int>)f)((IntPtr)a[0], (int)a[1], BitConverter.Int64BitsToDouble(a[2]));
    private static long I_PII(IntPtr f, long* a) => ((delegate*<IntPtr, int, int, int>)f)((IntPtr)a[0], (int)a[1], (int)a[2]);
    private static long I_PIIP(IntPtr f, long* a) => ((delegate*<IntPtr, int, int, IntPtr, int>)f)((IntPtr)a[0], (int)a[1], (int)a[2], (IntPtr)a[3]);
    private static long I_PIP(IntPtr f, long* a) => ((delegate*<IntPtr, int, IntPtr, int>)f)((IntPtr)a[0], (int)a[1], (IntPtr)a[2]);
    private static long I_PP(IntPtr f, long* a) => ((delegate*<IntPtr, IntPtr, int>)f)((IntPtr)a[0], (IntPtr)a[1]);
    private static long I_PPD(IntPtr f, long* a) => ((delegate*<IntPtr, IntPtr, double, int>)f)((IntPtr)a[0], (IntPtr)a[1], BitConverter.Int64BitsToDouble(a[2]));
    private static long P_(IntPtr f, long* a) => (long)((delegate*<IntPtr>)f)();
    private static long P_IPP(IntPtr f, long* a) => (long)((delegate*<int, IntPtr, IntPtr, IntPtr>)f)((int)a[0], (IntPtr)a[1], (IntPtr)a[2]);
    private static long P_IPPP(IntPtr f, long* a) => (long)((delegate*<int, IntPtr, IntPtr, IntPtr, IntPtr>)f)((int)a[0], (IntPtr)a[1], (IntPtr)a[2], (IntPtr)a[3]);
    private static long P_P(IntPtr f, long* a) => (long)((delegate*<IntPtr, IntPtr>)f)((IntPtr)a[0]);
    private static long P_PI(IntPtr f, long* a) => (long)((delegate*<IntPtr, int, IntPtr>)f)((IntPtr)a[0], (int)a[1]);
    private static long P_PIIP(IntPtr f, long* a) => (long)((delegate*<IntPtr, int, int, IntPtr, IntPtr>)f)((IntPtr)a[0], (int)a[1], (int)a[2], (IntPtr)a[3]);
    private static long P_PP(IntPtr f, long* a) => (long)((delegate*<IntPtr, IntPtr, IntPtr>)f)((IntPtr)a[0], (IntPtr)a[1]);
    private static long P_PPD(IntPtr f, long* a) => (long)((delegate*<IntPtr, IntPtr, double, IntPtr>)f)((IntPtr)a[0], (IntPtr)a[1], BitConverter.Int64BitsToDouble(a[2]));
    private static long P_PPDI(IntPtr f, long* a) => (long)((delegate*<IntPtr, IntPtr, double, int, IntPtr>)f)((IntPtr)a[0], (IntPtr)a[1], BitConverter.Int64BitsToDouble(a[2]), (int)a[3]);
    private static long P_PPPP(IntPtr f, long* a) => (long)((delegate*<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr>)f)((IntPtr)a[0], (IntPtr)a[1], (IntPtr)a[2], (IntPtr)a[3]);
    private static long Q_PI(IntPtr f, long* a) => ((delegate*<IntPtr, int, long>)f)((IntPtr)a[0], (int)a[1]);
    private static long Q_PII(IntPtr f, long* a) => ((delegate*<IntPtr, int, int, long>)f)((IntPtr)a[0], (int)a[1], (int)a[2]);
}
