using System.Runtime.InteropServices;
using OpenCvSharp;

namespace ConvService.Benchmarks.Peers;

/// <summary>
/// OpenCV's image filters on the same data: Filter2D (correlation, anchor at the centre, zero
/// border = our symmetric zero padding) on one channel or on the interleaved channels of an
/// image, and SepFilter2D with the Gaussian's 1-D factors. Source and destination Mats wrap
/// pinned arrays allocated once, so a call is only the filter.
/// </summary>
internal sealed class OpenCvRunner : IConvRunner
{
    private readonly bool _separable;
    private readonly int _channels, _height, _width;
    private readonly float[] _src, _dst;
    private GCHandle _srcPin, _dstPin;
    private readonly Mat _srcMat, _dstMat;
    private readonly Mat _kernel;
    private readonly Mat? _kernelX, _kernelY;

    private OpenCvRunner(BenchShape shape, ShapeData data, int threads, bool separable)
    {
        if (shape.InputShape[0] != 1 || shape.WeightShape[1] != 1 || shape.Options.StrideH != 1 || shape.Options.StrideW != 1)
        {
            throw new ArgumentException($"{shape.Id}: OpenCV filters one image with one kernel, stride 1");
        }

        Cv2.SetNumThreads(threads);
        _separable = separable;
        _channels = (int)shape.InputShape[1];
        _height = (int)shape.InputShape[2];
        _width = (int)shape.InputShape[3];
        _src = Interleave(data.Input, _channels, _height * _width);
        _dst = new float[_src.Length];
        Array.Fill(_dst, float.NaN);
        _srcPin = GCHandle.Alloc(_src, GCHandleType.Pinned);
        _dstPin = GCHandle.Alloc(_dst, GCHandleType.Pinned);
        var type = MatType.CV_32FC(_channels);
        _srcMat = Mat.FromPixelData(_height, _width, type, _srcPin.AddrOfPinnedObject());
        _dstMat = Mat.FromPixelData(_height, _width, type, _dstPin.AddrOfPinnedObject());

        // Channel 0's kernel: the shapes OpenCV runs share one kernel across channels.
        int kh = (int)shape.WeightShape[2], kw = (int)shape.WeightShape[3];
        _kernel = Filled(kh, kw, data.Weight.AsSpan(0, kh * kw));
        if (separable)
        {
            _kernelX = Filled(1, kw, data.Row);
            _kernelY = Filled(kh, 1, data.Column);
        }
    }

    public string Library => "opencv";

    public string Variant => _separable ? "sepfilter2d" : "filter2d";

    public string Algorithm => "";

    public static OpenCvRunner Filter2D(BenchShape shape, ShapeData data, int threads) => new(shape, data, threads, separable: false);

    public static OpenCvRunner SepFilter2D(BenchShape shape, ShapeData data, int threads) => new(shape, data, threads, separable: true);

    public void Run()
    {
        if (_kernelX is not null && _kernelY is not null)
        {
            Cv2.SepFilter2D(_srcMat, _dstMat, MatType.CV_32F, _kernelX, _kernelY, null, 0, BorderTypes.Constant);
        }
        else
        {
            Cv2.Filter2D(_srcMat, _dstMat, MatType.CV_32F, _kernel, null, 0, BorderTypes.Constant);
        }
    }

    public float[] Output()
    {
        // OpenCV reallocates a destination whose size or type does not fit; ours always fits.
        if (_dstMat.Data != _dstPin.AddrOfPinnedObject())
        {
            throw new InvalidOperationException("OpenCV reallocated the destination Mat; the pinned output was not written");
        }

        return Deinterleave(_dst, _channels, _height * _width);
    }

    public void Dispose()
    {
        _kernelY?.Dispose();
        _kernelX?.Dispose();
        _kernel.Dispose();
        _dstMat.Dispose();
        _srcMat.Dispose();
        _dstPin.Free();
        _srcPin.Free();
    }

    private static Mat Filled(int rows, int cols, ReadOnlySpan<float> values)
    {
        if (values.Length != rows * cols)
        {
            throw new ArgumentException($"kernel has {values.Length} values, {rows}x{cols} expected (SepFilter2D needs the 1-D factors)");
        }

        var m = new Mat(rows, cols, MatType.CV_32FC1);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                m.Set(i, j, values[i * cols + j]);
            }
        }

        return m;
    }

    /// <summary>Planar [C][pixels] to interleaved [pixels][C]; a copy even for one channel.</summary>
    private static float[] Interleave(float[] planar, int channels, int pixels)
    {
        var result = new float[planar.Length];
        for (int c = 0; c < channels; c++)
        {
            for (int p = 0; p < pixels; p++)
            {
                result[p * channels + c] = planar[c * pixels + p];
            }
        }

        return result;
    }

    private static float[] Deinterleave(float[] interleaved, int channels, int pixels)
    {
        var result = new float[interleaved.Length];
        for (int c = 0; c < channels; c++)
        {
            for (int p = 0; p < pixels; p++)
            {
                result[c * pixels + p] = interleaved[p * channels + c];
            }
        }

        return result;
    }
}
