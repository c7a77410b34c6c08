using System.Buffers;

namespace Strata.Storage;

public sealed partial class KeyspaceEngine
{
    /// <summary>
    /// A key of the inner engine, prefix + key, built in a caller's (stack) buffer, or in an array rented from
    /// <see cref="ArrayPool{T}.Shared"/> when it does not fit; <see cref="Dispose"/> (a <c>using</c>) returns the array.
    /// </summary>
    private ref struct InnerKey
    {
        private byte[]? _rented;

        public InnerKey(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> key, Span<byte> scratch)
        {
            var length = prefix.Length + key.Length;
            var buffer = length <= scratch.Length ? scratch : (_rented = ArrayPool<byte>.Shared.Rent(length));
            prefix.CopyTo(buffer);
            key.CopyTo(buffer[prefix.Length..]);
            Span = buffer[..length];
        }

        /// <summary>The inner key; valid until <see cref="Dispose"/>.</summary>
        public ReadOnlySpan<byte> Span { get; }

        public void Dispose()
        {
            if (_rented is { } rented)
            {
                _rented = null;
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// The decoders of the keyspace reads in progress on this thread, innermost last, with the prefix length each one
    /// must not see. <see cref="ReadFrom"/> pushes its caller's decoder and hands the inner engine
    /// <see cref="KeyStripping{TResult}.Decoder"/>, which pops the frame, calls the caller's decoder with the key minus
    /// the prefix, and pushes the frame back.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Why not a closure: a lambda capturing the caller's decoder would allocate on every read, and
    /// <see cref="IKvReader.Read{TResult}"/> has no state argument. A thread-static stack is free once warm (its array
    /// grows only with the nesting depth) and correct however reads nest: a keyspace over a keyspace (the outer frame
    /// is popped by the inner keyspace's stripping decoder, then the caller's by the outer's), a decoder that reads
    /// again (its reads push and pop above the frames in use), a wrapper in between that passes its own decoder.
    /// </para>
    /// <para>
    /// It needs what <see cref="ValueDecoder{TResult}"/> promises: the inner engine calls the decoder during
    /// <see cref="IKvReader.Read{TResult}"/>, on the calling thread. A decoder called on another thread finds no frame
    /// and throws <see cref="InvalidOperationException"/> instead of decoding someone else's read.
    /// </para>
    /// </remarks>
    private static class DecoderFrames
    {
        [ThreadStatic]
        private static Frame[]? _frames;

        [ThreadStatic]
        private static int _depth;

        public static void Push(Delegate decode, int prefixLength)
        {
            var frames = _frames ??= new Frame[4];
            if (_depth == frames.Length)
            {
                Array.Resize(ref frames, frames.Length * 2);
                _frames = frames;
            }

            frames[_depth++] = new Frame(decode, prefixLength);
        }

        public static Frame Pop()
        {
            if (_depth == 0 || _frames is not { } frames)
            {
                throw new InvalidOperationException(
                    "A KeyspaceEngine decoder was called outside the Read call that passed it (another thread, or after the call returned).");
            }

            var frame = frames[--_depth];
            frames[_depth] = default;
            return frame;
        }
    }

    private readonly record struct Frame(Delegate Decode, int PrefixLength);

    /// <summary>The decoder a keyspace hands its inner engine: strips the prefix, then decodes with the caller's.</summary>
    private static class KeyStripping<TResult>
        where TResult : class
    {
        public static readonly ValueDecoder<TResult> Decoder = Decode;

        private static TResult Decode(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            var frame = DecoderFrames.Pop();
            try
            {
                return ((ValueDecoder<TResult>)frame.Decode)(key[frame.PrefixLength..], value);
            }
            finally
            {
                DecoderFrames.Push(frame.Decode, frame.PrefixLength);
            }
        }
    }
}
