using CsFutures.Interop.Bridge;
using CsFutures.Interop.CPython;

namespace CsFutures.Interop;

/// <summary>
/// A Python exception seen from .NET: raised by a Python callable that ran on an executor, or set
/// on a future by Python code. It holds the original Python exception object (with its
/// <c>__traceback__</c>), so that a Python caller gets that very object back, and exposes the
/// Python type name, message and formatted traceback to .NET code.
/// </summary>
public sealed class PythonRaisedException : Exception
{
    private readonly Lazy<(string Type, string Message, string Traceback)> _text;

    internal PythonRaisedException(PyRef exception)
        : base("Python exception")
    {
        Exception = exception;
        _text = new Lazy<(string, string, string)>(Describe);
    }

    /// <summary>With the description already taken (under the GIL, while the interpreter surely
    /// runs): a C#-hosted interpreter may be shut down before the exception is read.</summary>
    internal PythonRaisedException(PyRef exception, (string Type, string Message, string Traceback) text)
        : base("Python exception")
    {
        Exception = exception;
        _text = new Lazy<(string, string, string)>(text);
    }

    /// <summary>The Python exception object (owned). Use it under the GIL.</summary>
    public PyRef Exception { get; }

    /// <summary>The Python type name, as <c>type(exc).__qualname__</c> (e.g. <c>ValueError</c>).</summary>
    public string PythonType => _text.Value.Type;

    /// <summary>The message: <c>str(exc)</c>.</summary>
    public string PythonMessage => _text.Value.Message;

    /// <summary>The traceback as Python prints it: <c>traceback.format_exception(exc)</c>.</summary>
    public string PythonTraceback => _text.Value.Traceback;

    /// <inheritdoc/>
    public override string Message => $"{PythonType}: {PythonMessage}";

    private (string, string, string) Describe()
    {
        if (!PyApi.Loaded || PyApi.IsFinalizing)
        {
            return ("BaseException", "", "");
        }
        using (Gil.Acquire())
        {
            return PythonBridge.DescribeException(Exception.Pointer);
        }
    }
}
