/**
 * Copy `text` to the clipboard. Resolves `false` when the browser refuses (no permission,
 * an insecure context); the caller then lets the reader copy it by hand.
 */
export async function copyText(text: string): Promise<boolean> {
  if (!navigator.clipboard) return false;
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (error) {
    console.warn('[playground] clipboard refused the share link', error);
    return false;
  }
}
