/** The one pub/sub topic every feed socket joins; built here and nowhere else. */
export const postsTopic = (collectionName: string) => `feed:${collectionName}`;
