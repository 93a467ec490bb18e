using System.Runtime.ExceptionServices;
using CsFutures.Interop.Bridge;

namespace CsFutures.Interop.Runtime;

/// <summary>
/// The bridge's few pythonnet-visible methods, for .NET callables submitted from Python
/// (<c>executor.submit(System.Func[int](...))</c>): they run on the pool's threads without the GIL,
/// and their results and exceptions are converted by pythonnet when Python reads them.
/// </summary>
public static class ClrBridge
{
    /// <summary>Submits a .NET delegate with arguments to the executor behind
    /// <paramref name="executorHandle"/>; returns the new future's handle.</summary>
    public static long SubmitDelegate(long executorHandle, Delegate fn, object?[] args)
    {
        ArgumentNullException.ThrowIfNull(fn);
        var executor = Handles.Get<Executor>((IntPtr)executorHandle);
        var future = executor.Submit(() =>
        {
            try
            {
                return fn.DynamicInvoke(args.Length == 0 ? null : args);
            }
            catch (System.Reflection.TargetInvocationException ex) when (ex.InnerException is not null)
            {
                ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }
        });
        return (long)Handles.New(future);
    }

    /// <summary>The result of a future whose value is a .NET object (rethrows its exception).</summary>
    public static object? ResultOf(long futureHandle)
    {
        return Handles.Get<Future>((IntPtr)futureHandle).ResultObject(TimeSpan.Zero);
    }

    /// <summary>The exception of a future whose work was .NET code, or <c>null</c>.</summary>
    public static Exception? ExceptionOf(long futureHandle)
    {
        return Handles.Get<Future>((IntPtr)futureHandle).Exception(TimeSpan.Zero);
    }
}
